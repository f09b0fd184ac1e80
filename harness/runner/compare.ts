import { mcpToolPrefix } from '../client/index.ts';
import type { Expectation } from '../topology/index.ts';
import type { ServerOutcome, ServerResult } from './result.ts';

/**
 * Sets each server's result beside its expectation. A server the scenario expects but the worker
 * does not list fails; a server without an expectation is reported and passes.
 */
export function compare(results: ServerResult[], expect: Record<string, Expectation>): ServerOutcome[] {
  const outcomes: ServerOutcome[] = results.map((result) => {
    const expected = expect[result.name];
    const mismatches = expected ? mismatchesOf(result, expected) : [];
    return { ...result, ...(expected ? { expected } : {}), ok: mismatches.length === 0, mismatches };
  });
  for (const [name, expected] of Object.entries(expect)) {
    if (results.some((result) => result.name === name)) continue;
    outcomes.push({
      name,
      status: 'pending',
      url: '',
      elapsedMs: 0,
      tools: [],
      unpermitted: [],
      expected,
      ok: false,
      mismatches: [`${name} is not among the worker's MCP servers`],
    });
  }
  return outcomes;
}

function mismatchesOf(result: ServerResult, expected: Expectation): string[] {
  const mismatches: string[] = [];
  if (result.status !== expected.status) mismatches.push(`status is ${result.status}, expected ${expected.status}`);
  if ('reason' in expected && expected.reason !== undefined) {
    const kind = result.reason?.kind;
    const wanted = typeof expected.reason === 'string' ? [expected.reason] : expected.reason;
    if (!kind || !wanted.some((pattern) => kind === pattern || kind.startsWith(`${pattern}.`))) {
      mismatches.push(`reason is ${kind ?? 'none'}, expected ${wanted.join(' or ')}`);
    }
  }
  if ('hop' in expected && expected.hop !== undefined) {
    const hop = result.reason?.hop ? `${result.reason.hop.from} -> ${result.reason.hop.to}` : 'none';
    if (hop !== expected.hop) mismatches.push(`hop is ${hop}, expected ${expected.hop}`);
  }
  if ('unpermitted' in expected && expected.unpermitted !== undefined) {
    const prefix = mcpToolPrefix(result.name).length;
    const actual = result.unpermitted.map((tool) => tool.slice(prefix)).sort();
    const short = result.tools.map((tool) => tool.slice(prefix)).sort();
    const wanted = expected.unpermitted === 'all' ? short : [...expected.unpermitted].sort();
    if (expected.unpermitted === 'all' && short.length === 0) mismatches.push('expected all tools unpermitted, but it has no tools');
    else if (actual.join(',') !== wanted.join(',')) {
      mismatches.push(`unpermitted tools are [${actual.join(', ')}], expected [${wanted.join(', ')}]`);
    }
  }
  return mismatches;
}
