// The bench's parts, for `bench/run.ts` (the `npm run bench` entry) and `bench/child.ts` (one part in a fresh process).
export { measureHandshakes } from './handshake.ts';
export type { HandshakeArgs, HandshakeFigures, PathFigures } from './handshake.ts';
export { measureScenarioRun } from './scenarios.ts';
export type { ScenarioRunArgs, ScenarioRunFigures } from './scenarios.ts';
export { measureBlockedFlow } from './blocked.ts';
export type { BlockedArgs, BlockedRow } from './blocked.ts';
export { measureContainers, measureContainersRun } from './containers.ts';
export { measureClients } from './clients.ts';
export type { ClientsArgs, ClientsRow } from './clients.ts';
export type { ContainersFigures, ContainersRunArgs, ContainersRunFigures } from './containers.ts';
export { writeGeneratedScenarios, writeServersTopology, writeWithTimeout } from './generate.ts';
export { inChild, machine, median, percentile, processFigures, watchHeap } from './measure.ts';
export type { ChildFigures, HeapFigures, Machine, ProcessFigures } from './measure.ts';
