export { inProcessRuntime } from './inprocess.ts';
export { RuntimeError } from './errors.ts';
export type { RuntimeErrorCode } from './errors.ts';
export type { Runtime, RuntimeOptions, StartedTopology } from './runtime.ts';
