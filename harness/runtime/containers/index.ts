export { containersRuntime } from './runtime.ts';
export type { ContainersRuntime } from './runtime.ts';
export { containersConcurrency, planTopology, DEFAULT_IMAGE, HARNESS_LABEL, SESSION_LABEL, RUN_LABEL, NODE_LABEL } from './plan.ts';
export type { NodeContainerPlan, NodeNetworkPlan, PlanOptions, TopologyPlan, WorkerPlan } from './plan.ts';
export type { ContainersStartOptions, StartedContainersTopology } from './start.ts';
export { reusingContainersRuntime } from './reuse.ts';
export type { ReusingRuntime } from './reuse.ts';
