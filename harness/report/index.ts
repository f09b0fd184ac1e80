export { formatScenarioTable, formatExpectation } from './table.ts';
export type { TableOptions } from './table.ts';
export { toJsonReport } from './json.ts';
export type { JsonReport } from './json.ts';
export { toJUnitXml } from './junit.ts';
export { formatExplanation } from './explain.ts';
export { toMermaid } from './diagram.ts';
