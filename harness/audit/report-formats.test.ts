import { describe, expect, it } from 'vitest';
import { CLAUSES } from './clauses.ts';
import { AuditReportVersion, type AuditReport, type CheckResult } from './finding.ts';
import { failsAt, formatAuditText, summarize, toAuditJson, toAuditJUnit, toAuditSarif } from './report-formats.ts';

function check(id: string, status: CheckResult['status'], severity: CheckResult['severity'], target = 'prometheus'): CheckResult {
  return {
    id,
    title: `${id} title`,
    target,
    status,
    severity,
    message: `${id} message`,
    clause: CLAUSES.tokenValidation,
    evidence: [{ request: { method: 'POST', url: 'http://mcp.invalid/v1/mcp', headers: { authorization: 'Bearer <expired token, 700 chars>' } }, via: 'w egress', response: { status: 200, headers: {}, body: '{}' } }],
  };
}

function report(source: string, checks: CheckResult[]): AuditReport {
  return { version: AuditReportVersion, source, worker: 'w', servers: [{ name: 'prometheus', url: 'http://mcp.invalid/v1/mcp', node: 'mcp', via: 'w egress', audience: 'a' }], checks, reachability: [] };
}

const mixed = report('a.yaml', [check('token.expired', 'fail', 'high'), check('token.alg-none', 'pass', 'info'), check('challenge.scope', 'fail', 'low'), check('prm.header-url', 'skip', 'info')]);

describe('summarize and failsAt', () => {
  it('counts findings per severity and fails at the threshold or above only', () => {
    expect(summarize(mixed)).toEqual({ info: 0, low: 1, medium: 0, high: 1, critical: 0 });
    expect([failsAt(mixed, 'critical'), failsAt(mixed, 'high'), failsAt(mixed, 'low')]).toEqual([false, true, true]);
    expect(toAuditJson(mixed, { failOn: 'critical' })).toMatchObject({ ok: true, failOn: 'critical', counts: { high: 1 } });
  });
});

describe('formatAuditText', () => {
  it('lists findings worst first, quotes each clause once, and closes with the verdict', () => {
    const text = formatAuditText(mixed, { failOn: 'high' });
    expect(text.indexOf('HIGH     token.expired')).toBeLessThan(text.indexOf('LOW      challenge.scope'));
    expect(text.match(/MUST validate access tokens/g)).toHaveLength(1);
    expect(text).toContain('sent: POST http://mcp.invalid/v1/mcp Authorization: Bearer <expired token, 700 chars>  [via w egress]');
    expect(text).toMatch(/4 checks: 0 critical, 1 high, 0 medium, 1 low, 0 info findings; FAIL \(a finding at high or above\)\n$/);
  });
});

describe('toAuditJUnit', () => {
  it('writes one document for several audits, a testcase per check, failures and skips', () => {
    const xml = toAuditJUnit([mixed, report('b.yaml', [check('token.valid', 'fail', 'medium')])]);
    expect(xml.match(/<\?xml/g)).toHaveLength(1);
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml).toContain('<testsuite name="audit a.yaml prometheus" tests="4" failures="2" skipped="1" errors="0">');
    expect(xml).toContain('<failure type="high" message="token.expired message">');
    expect(xml).toContain('<skipped message="prm.header-url message"/>');
  });
});

describe('toAuditSarif', () => {
  it('has a rule per check id, a result per finding with its level, and locates it at the node\'s line', () => {
    const sarif = toAuditSarif(mixed, { sourceText: 'nodes:\n  w:\n    run: worker\n  mcp:\n    run: monitoring-mcp\n', nodeOf: () => 'mcp' });
    const run = sarif.runs[0]!;
    expect(run.tool.driver.rules!.map((rule) => rule.id)).toEqual(['token.expired', 'token.alg-none', 'challenge.scope', 'prm.header-url']);
    expect(run.results!.map((result) => [result.ruleId, result.level, result.ruleIndex])).toEqual([['token.expired', 'error', 0], ['challenge.scope', 'note', 2]]);
    expect(run.results![0]!.locations![0]!.physicalLocation).toEqual({ artifactLocation: { uri: 'a.yaml' }, region: { startLine: 4 } });
    expect(run.tool.driver.rules![0]!.properties!['security-severity']).toBe('8.0');
  });
});
