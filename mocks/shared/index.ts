export { systemClock, ManualClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { listen, disposable } from './started.ts';
export type { Started, ListenOptions, Listening } from './started.ts';
export { ServiceLog, jsonLinesSink } from './log.ts';
export type { LogEntry, LogSink } from './log.ts';
export { proxiedFetch } from './fetch.ts';
export type { Fetch } from './fetch.ts';
export { listenOptionsFromEnv, runMain } from './env.ts';
