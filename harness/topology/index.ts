export { loadScenarioFile, scenarioId } from './load.ts';
export type { LoadOptions } from './load.ts';
export { discoverScenarios, resolveScenarioArgs } from './discover.ts';
export { requireExpectations } from './expectations.ts';
export { requiredRuntime } from './required-runtime.ts';
export type { RequiredRuntime } from './required-runtime.ts';
export { mergePatch } from './merge-patch.ts';
export { parseYamlSource } from './source.ts';
export type { YamlSource } from './source.ts';
export { TopologyError, formatLocation } from './errors.ts';
export type { TopologyErrorCode, SourceLocation } from './errors.ts';
export {
  ScenarioFileSchema,
  NodeSchema,
  ExpectationSchema,
  TokenSpecSchema,
  StatusSchema,
  ReadySchema,
  TokenKindSchema,
} from './schema.ts';
export type { Expectation, ExpectedStatus, NodeRun, Ready, TokenSpec, ScenarioFile } from './schema.ts';
export type { ContainerSpec, Scenario, Topology, TopologyNode, TopologyService, WorkerSpec } from './topology.ts';
