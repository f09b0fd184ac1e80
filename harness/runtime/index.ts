export { inProcessRuntime } from './inprocess.ts';
export { FlowAccounting } from './flow-accounting.ts';
export { containersConcurrency, containersRuntime, reusingContainersRuntime } from './containers/index.ts';
export type { ContainersRuntime, ReusingRuntime, StartedContainersTopology } from './containers/index.ts';
export { planUpdate } from './update-plan.ts';
export type { UpdatePlan } from './update-plan.ts';
export { RuntimeError } from './errors.ts';
export type { RuntimeErrorCode } from './errors.ts';
export type { Runtime, RuntimeOptions, StartedNode, StartedTopology, TopologyEvent, TopologyEventListener, TopologyProbe, TopologyUpdate } from './runtime.ts';
