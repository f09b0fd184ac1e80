import type { Log, ReportingDescriptor, Result } from 'sarif';
import { atLeast, findings, SEVERITIES, type AuditReport, type CheckResult, type Severity } from './finding.ts';

/** Counts of failed checks per severity. */
export function summarize(report: AuditReport): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const finding of findings(report)) counts[finding.severity] += 1;
  return counts;
}

/** True when a finding reaches `failOn`: the audit's exit code 1. */
export function failsAt(report: AuditReport, failOn: Severity): boolean {
  return findings(report).some((finding) => atLeast(finding.severity, failOn));
}

function evidenceLines(check: CheckResult): string[] {
  return check.evidence.slice(0, 1).flatMap((exchange) => {
    const auth = exchange.request.headers.authorization;
    const origin = exchange.request.headers.origin;
    const sent = `${exchange.request.method} ${exchange.request.url}${auth ? ` Authorization: ${auth}` : ''}${origin ? ` Origin: ${origin}` : ''}`;
    const got = exchange.response
      ? `${exchange.response.status}${exchange.response.headers['www-authenticate'] ? ` WWW-Authenticate: ${exchange.response.headers['www-authenticate']}` : ' (no WWW-Authenticate)'}`
      : `no answer: ${exchange.error}`;
    return [`      sent: ${sent}  [via ${exchange.via}]`, `      got:  ${got}`];
  });
}

/**
 * The text report: findings per target, worst first, each with its clause and evidence; then the
 * worker's row of the reachability matrix and the counts.
 *
 * @example
 * process.stdout.write(formatAuditText(report, { failOn: 'high' }));
 */
export function formatAuditText(report: AuditReport, options: { failOn: Severity }): string {
  const lines: string[] = [`harness audit ${report.source} (acting as ${report.worker})`, ''];
  const clauses: string[] = [];
  const clauseRef = (check: CheckResult): string => {
    const clause = check.clause!;
    const text = `${clause.spec}, ${clause.section}: "${clause.text}" ${clause.url}`;
    if (!clauses.includes(text)) clauses.push(text);
    return `[${clauses.indexOf(text) + 1}] ${clause.spec}, ${clause.section}`;
  };
  const targets = [...new Set(report.checks.map((check) => check.target))];
  for (const target of targets) {
    const checks = report.checks.filter((check) => check.target === target);
    const failed = checks.filter((check) => check.status === 'fail').sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
    const server = report.servers.find((entry) => entry.name === target);
    lines.push(`${target}${server ? ` ${server.url} (node ${server.node ?? '?'}, via ${server.via})` : ''}: ${checks.filter((check) => check.status === 'pass').length} passed, ${failed.length} failed, ${checks.filter((check) => check.status === 'skip').length} skipped`);
    for (const check of failed) {
      lines.push(`  ${check.severity.toUpperCase().padEnd(8)} ${check.id}: ${check.message}`);
      if (check.clause) lines.push(`      breaks: ${clauseRef(check)}`);
      lines.push(...evidenceLines(check));
    }
  }
  lines.push('', `reachability from ${report.worker}:`);
  for (const row of report.reachability.filter((entry) => entry.from === report.worker)) {
    lines.push(`  ${row.verdict.padEnd(6)} ${row.to}:${row.port}/tcp (${row.service})${row.verdict === 'allow' ? ` by outbound ${row.outbound.rule}, inbound ${row.inbound.rule}` : `: ${row.outbound.rule ? row.inbound.reason : row.outbound.reason}`}`);
  }
  if (clauses.length > 0) lines.push('', 'clauses:', ...clauses.map((text, at) => `  [${at + 1}] ${text}`));
  const counts = summarize(report);
  lines.push(
    '',
    `${report.checks.length} checks: ${SEVERITIES.slice().reverse().map((severity) => `${counts[severity]} ${severity}`).join(', ')} findings; ${failsAt(report, options.failOn) ? `FAIL (a finding at ${options.failOn} or above)` : `ok (nothing at ${options.failOn} or above)`}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The `--json` document: the report, the counts, and the verdict at `failOn`. */
export function toAuditJson(report: AuditReport, options: { failOn: Severity }): Record<string, unknown> {
  return { ok: !failsAt(report, options.failOn), failOn: options.failOn, counts: summarize(report), ...report };
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * JUnit XML: one testsuite per target (per audited topology and target when there are several),
 * one testcase per check; a finding is a failure (its type the severity), a skipped check is skipped.
 *
 * @example
 * await writeFile('reports/audit.xml', toAuditJUnit(report));
 */
export function toAuditJUnit(reports: AuditReport | readonly AuditReport[]): string {
  const all = Array.isArray(reports) ? reports : [reports as AuditReport];
  const suites = all.flatMap((report) => junitSuites(report, all.length > 1));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="harness audit">\n${suites.join('\n')}\n</testsuites>\n`;
}

function junitSuites(report: AuditReport, named: boolean): string[] {
  const targets = [...new Set(report.checks.map((check) => check.target))];
  return targets.map((target) => {
    const checks = report.checks.filter((check) => check.target === target);
    const cases = checks.map((check) => {
      const body =
        check.status === 'fail'
          ? `<failure type="${check.severity}" message="${xml(check.message)}">${xml([check.clause ? `${check.clause.spec}, ${check.clause.section}` : '', ...evidenceLines(check).map((line) => line.trim())].filter(Boolean).join('\n'))}</failure>`
          : check.status === 'skip'
            ? `<skipped message="${xml(check.message)}"/>`
            : '';
      return `    <testcase classname="audit.${xml(target)}" name="${xml(`${check.id}: ${check.title}`)}">${body}</testcase>`;
    });
    return [
      `  <testsuite name="audit ${named ? `${xml(report.source)} ` : ''}${xml(target)}" tests="${checks.length}" failures="${checks.filter((check) => check.status === 'fail').length}" skipped="${checks.filter((check) => check.status === 'skip').length}" errors="0">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
}

const SARIF_LEVEL: Record<Severity, Result.level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
// GitHub code scanning orders alerts by `security-severity` (0.0-10.0, CVSS-like bands).
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

/**
 * SARIF 2.1.0: one rule per check id (its clause as help), one result per finding, located in the
 * topology file at the line that names the finding's node (line 1 when none does).
 *
 * @example
 * await writeFile('audit.sarif', JSON.stringify(toAuditSarif(report, { sourceText }), null, 2));
 */
export function toAuditSarif(report: AuditReport, options: { sourceText?: string; nodeOf?: (target: string) => string | undefined } = {}): Log {
  const rules: ReportingDescriptor[] = [];
  const index = new Map<string, number>();
  for (const check of report.checks) {
    if (index.has(check.id)) continue;
    index.set(check.id, rules.length);
    rules.push({
      id: check.id,
      name: check.id.replace(/[^a-zA-Z0-9]+(.)/g, (_m, char: string) => char.toUpperCase()),
      shortDescription: { text: check.title },
      ...(check.clause
        ? { fullDescription: { text: `${check.clause.spec}, ${check.clause.section}: ${check.clause.text}` }, helpUri: check.clause.url, help: { text: `${check.clause.spec}, ${check.clause.section}: "${check.clause.text}" (${check.clause.url})` } }
        : {}),
      properties: { tags: ['security', 'mcp', check.id.split('.')[0]!] },
    });
  }
  // GitHub reads a rule's security-severity: the worst severity its findings have here.
  for (const finding of findings(report)) {
    const properties = rules[index.get(finding.id)!]!.properties!;
    const current = properties['security-severity'] as string | undefined;
    if (current === undefined || Number(SECURITY_SEVERITY[finding.severity]) > Number(current)) properties['security-severity'] = SECURITY_SEVERITY[finding.severity];
  }
  const lines = options.sourceText?.split('\n') ?? [];
  const lineOf = (target: string): number => {
    const node = options.nodeOf?.(target) ?? target;
    const at = lines.findIndex((line) => new RegExp(`^\\s+${node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\s*$`).test(line));
    return at >= 0 ? at + 1 : 1;
  };
  const uri = report.source || 'topology.yaml';
  const results: Result[] = findings(report).map((check) => ({
    ruleId: check.id,
    ruleIndex: index.get(check.id)!,
    level: SARIF_LEVEL[check.severity],
    message: { text: `${check.target}: ${check.message}` },
    locations: [{ physicalLocation: { artifactLocation: { uri }, region: { startLine: lineOf(check.target) } }, logicalLocations: [{ name: check.target }] }],
    partialFingerprints: { auditTarget: `${check.target}/${check.id}` },
    properties: { severity: check.severity, 'security-severity': SECURITY_SEVERITY[check.severity], target: check.target, evidence: check.evidence },
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'harness audit', informationUri: 'https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization', version: '0.1.0', rules } },
        results,
      },
    ],
  };
}
