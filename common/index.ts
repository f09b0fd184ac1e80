/**
 * # common: the primitives the harness and the simulated services both use
 *
 * The one folder both sides import, importing neither: `mocks/` (each service, with this folder,
 * can be lifted out on its own) and `harness/` meet here, never in each other. What is here:
 * the coded error base (`HarnessError`), the injected `Clock` (and a scenario's `VirtualClock`), the `Fetch` through a node's
 * network shim, the structured service log (`LogEntry`, the "server log" the diagnosis reads),
 * `listen` / `Started` for running things, and the SDK's lazy JSON Schema validator.
 * `test/layering.test.ts` checks the import rule.
 *
 * @example
 * import { HarnessError, ManualClock, listen } from '../../common/index.ts';
 */
export { HarnessError, isHarnessError } from './errors.ts';
export { systemClock, ManualClock, timersOf, timeoutSignal, sleep, delayed } from './clock.ts';
export type { Clock, DelayAwareClock, Timers, TimerClock, TimerHandle } from './clock.ts';
export { STALL_GRACE_MS, VirtualClock, isVirtualClock } from './virtual-clock.ts';
export type { ActivitySource, ActivityToken } from './virtual-clock.ts';
export { listen, disposable } from './started.ts';
export type { Started, ListenOptions, Listening } from './started.ts';
export { ServiceLog, jsonLinesSink } from './log.ts';
export type { LogEntry, LogSink } from './log.ts';
export { fetchThrough, proxiedFetch, proxyDispatcher } from './fetch.ts';
export type { Fetch } from './fetch.ts';
export { lazySchemaValidator } from './schema-validator.ts';
export { deepFreeze } from './freeze.ts';
