import Table from 'cli-table3';
import type { Expectation } from '../topology/index.ts';
import type { ScenarioResult, ServerOutcome } from '../runner/index.ts';

export interface TableOptions {
  /** ANSI colours (a terminal); off for files and pipes. */
  color?: boolean;
}

/**
 * One scenario as a table: server, expected, actual, reason; then its mismatches.
 *
 * @example
 * process.stdout.write(formatScenarioTable(result, { color: process.stdout.isTTY }));
 */
export function formatScenarioTable(result: ScenarioResult, options: TableOptions = {}): string {
  const paint = painter(options.color ?? false);
  if (result.skipped) return `${paint.yellow('SKIP')} ${result.scenario}: ${result.skipped}\n`;
  const mark = result.ok ? paint.green('PASS') : paint.red('FAIL');
  // The simulated worker is the default and goes unnamed; a real client is named with its version.
  const client = result.client && result.client.name !== 'simulated' ? ` [${result.client.name}${result.client.version ? ` ${result.client.version}` : ''}]` : '';
  const lines = [`${mark} ${result.scenario}${client} (${Math.round(result.elapsedMs)} ms)`];
  if (result.error) return [...lines, `  ${paint.red(result.error.code)}: ${result.error.message}`, ''].join('\n');
  const table = new Table({
    head: ['server', 'expected', 'actual', 'reason'],
    style: { head: options.color ? ['bold'] : [], border: options.color ? ['grey'] : [] },
    wordWrap: true,
    colWidths: [16, 24, 12, 72],
  });
  for (const server of result.servers) {
    table.push([
      server.name,
      server.expected ? formatExpectation(server.expected) : '(any)',
      server.ok ? server.status : paint.red(server.status),
      formatReason(server),
    ]);
  }
  lines.push(table.toString());
  for (const server of result.servers) {
    for (const mismatch of server.mismatches) lines.push(paint.red(`  ✗ ${server.name}: ${mismatch}`));
  }
  return `${lines.join('\n')}\n`;
}

export function formatExpectation(expected: Expectation): string {
  const parts: string[] = [expected.status];
  if ('reason' in expected && expected.reason) parts.push(typeof expected.reason === 'string' ? expected.reason : expected.reason.join(' or '));
  if ('hop' in expected && expected.hop) parts.push(`via ${expected.hop}`);
  if ('unpermitted' in expected && expected.unpermitted !== undefined) {
    parts.push(`unpermitted: ${expected.unpermitted === 'all' ? 'all' : `[${expected.unpermitted.join(', ')}]`}`);
  }
  return parts.join(', ');
}

function formatReason(server: ServerOutcome): string {
  const parts: string[] = [];
  if (server.reason) parts.push(`${server.reason.kind}: ${server.reason.detail}`);
  if (server.unpermitted.length > 0) parts.push(`not allowed by settings.json: ${server.unpermitted.join(', ')}`);
  return parts.join('\n') || (server.status === 'connected' ? `${server.tools.length} tools` : '');
}

function painter(color: boolean) {
  const wrap = (code: number) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { red: wrap(31), green: wrap(32), yellow: wrap(33) };
}
