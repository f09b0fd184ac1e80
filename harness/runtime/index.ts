export { inProcessRuntime } from './inprocess.ts';
export { FlowAccounting } from './flow-accounting.ts';
export { containersRuntime } from './containers/index.ts';
export type { ContainersRuntime, StartedContainersTopology } from './containers/index.ts';
export { RuntimeError } from './errors.ts';
export type { RuntimeErrorCode } from './errors.ts';
export type { Runtime, RuntimeOptions, StartedNode, StartedTopology, TopologyEvent, TopologyEventListener, TopologyProbe, TopologyUpdate } from './runtime.ts';
