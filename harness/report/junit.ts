import type { ScenarioResult } from '../runner/index.ts';
import { formatExpectation } from './table.ts';

/**
 * JUnit XML: a testsuite per scenario, a testcase per MCP server, a failure per unmet expectation.
 *
 * @example
 * await writeFile('reports/harness.xml', toJUnitXml(results));
 */
export function toJUnitXml(results: ScenarioResult[]): string {
  const suites = results.map((result) => {
    const cases = result.skipped
      ? [`    <testcase classname="${xml(result.scenario)}" name="start"><skipped message="${xml(result.skipped)}"/></testcase>`]
      : result.error
      ? [`    <testcase classname="${xml(result.scenario)}" name="start"><error type="${xml(result.error.code)}" message="${xml(result.error.message)}"/></testcase>`]
      : result.servers.map((server) => {
          const name = `${server.name}: ${server.expected ? formatExpectation(server.expected) : server.status}`;
          const body = server.ok
            ? ''
            : `<failure message="${xml(server.mismatches.join('; '))}">${xml(server.reason ? `${server.reason.kind}: ${server.reason.detail}` : '')}</failure>`;
          return `    <testcase classname="${xml(result.scenario)}" name="${xml(name)}">${body}</testcase>`;
        });
    const failures = result.servers.filter((server) => !server.ok).length;
    return [
      `  <testsuite name="${xml(result.scenario)}" tests="${cases.length}" failures="${failures}" errors="${result.error ? 1 : 0}" skipped="${result.skipped ? 1 : 0}" time="${(result.elapsedMs / 1000).toFixed(3)}">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mcp-topology-harness">\n${suites.join('\n')}\n</testsuites>\n`;
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
