import * as z from 'zod';

/** Severities, lowest first; `--fail-on` takes one of them. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/** True when `severity` is `threshold` or worse. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(threshold);
}

/** A clause of a specification a check holds a server to. */
export interface Clause {
  /** e.g. `MCP 2025-11-25`, `RFC 9728`. */
  spec: string;
  /** Section title or number, e.g. `Authorization > Access Token Usage > Token Handling`. */
  section: string;
  /** The sentence, quoted from the specification. */
  text: string;
  url: string;
}

/** One HTTP exchange as evidence: tokens shown by kind and length, never in full. */
export interface Exchange {
  request: { method: string; url: string; headers: Record<string, string> };
  /** `via` says how the request got there: the worker's egress, or directly when the worker's firewall blocks it. */
  via: string;
  response?: { status: number; headers: Record<string, string>; body: string };
  /** When no answer came: the network error. */
  error?: string;
}

/** The outcome of one check on one target (an MCP server, the auth server, or the network). */
export interface CheckResult {
  /** Stable id, e.g. `token.alg-none`, `prm.well-known-root`, `net.inbound-any`. */
  id: string;
  title: string;
  /** What the check looked at: a worker server name (`prometheus`), `auth-server`, or a node. */
  target: string;
  /** pass: as the clause wants; fail: a finding; skip: could not be judged (with why in `message`). */
  status: 'pass' | 'fail' | 'skip';
  /** The severity of the finding when it fails (info for a pass or skip). */
  severity: Severity;
  message: string;
  clause?: Clause;
  evidence: Exchange[];
}

export const AuditReportVersion = 1;

/** One row of the reachability matrix: may `from` open `to`'s service port, and by which rules. */
export interface Reachability {
  from: string;
  to: string;
  service: string;
  port: number;
  verdict: 'allow' | 'drop' | 'reject';
  outbound: { rule?: string; reason: string };
  inbound: { rule?: string; reason: string };
}

/** Everything one audit found: every check's result, and the reachability matrix. */
export interface AuditReport {
  version: typeof AuditReportVersion;
  source: string;
  worker: string;
  servers: { name: string; url: string; node: string | undefined; via: string; audience: string }[];
  checks: CheckResult[];
  reachability: Reachability[];
}

/** The failed checks, worst first. */
export function findings(report: AuditReport): CheckResult[] {
  return report.checks
    .filter((check) => check.status === 'fail')
    .sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
}
