export { runScenario, runScenarios, clientOf } from './run.ts';
export type { RunOptions } from './run.ts';
export { diagnose } from './diagnose.ts';
export type { DiagnoseInput } from './diagnose.ts';
export { compare } from './compare.ts';
export { summarize } from './summary.ts';
export type { RunSummary } from './summary.ts';
export type { Hop, Reason, ServerResult, ServerOutcome, ScenarioResult } from './result.ts';
