import { TopologyError } from './errors.ts';
import type { Scenario } from './topology.ts';

/**
 * Throws when a scenario checks nothing: a file run as a scenario must expect something of at least one
 * MCP server, or it would pass whatever happened. A base topology (no `expect`) is for `extends` and for
 * `harness check`; the error says so, naming the file and the field.
 *
 * @example
 * for (const scenario of await loadScenarioFile(file)) requireExpectations(scenario);
 */
export function requireExpectations(scenario: Scenario): void {
  if (Object.keys(scenario.expect).length > 0) return;
  const base = /(^|[\\/])topologies[\\/]/.test(scenario.file)
    ? 'this file is a base topology (under topologies/): extend it in a scenario file that has `expect`, or check a worker config against it with `harness check CONFIG --topology FILE`'
    : 'add `expect:` with a status for each MCP server, e.g. `prometheus: connected` (`harness check` checks a config without expectations)';
  throw new TopologyError('ERR_SCENARIO_NO_EXPECT', `${scenario.id} checks nothing, so it cannot pass: ${base}`, {
    file: scenario.file,
    field: 'expect',
  });
}
