import { isHarnessError } from '../../common/index.ts';
import { evaluateFlow } from './evaluate.ts';
import type { FlowVerdict, SideVerdict } from './evaluate.ts';
import { NameRegistry, type NetworkNode } from './names.ts';

export interface FirewallCheckOptions {
  /** The topology's nodes, with their identities and parsed firewalls. */
  nodes: NetworkNode[];
  /** Where the nodes came from (a topology file), named in messages. */
  source: string;
  /** Source node: name or overlay IP. */
  from: string;
  /** Destination node: name or overlay IP. */
  to: string;
  port: number | string;
  /** `tcp` (default), `udp` or `icmp`. */
  proto?: string;
  json?: boolean;
}

export interface CommandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What `--json` prints. */
export interface FirewallCheckReport extends FlowVerdict {
  from: string;
  to: string;
  port: number;
  proto: 'tcp' | 'udp' | 'icmp';
}

const EXIT_BAD_INPUT = 2;

/**
 * `harness firewall check FILE --from NODE --to NODE --port N [--proto tcp] [--json]`: the verdict
 * for one flow and both sides' reasons. Exit 0 whatever the verdict; 2 for bad input.
 *
 * @example
 * const { exitCode, stdout } = await runFirewallCheck({ nodes, source: 'monitoring-dev.yaml', from: 'claude-worker', to: 'monitoring-mcp', port: 8000 });
 * // stdout: "claude-worker -> monitoring-mcp:8000/tcp: drop\n  outbound claude-worker: ..."
 */
export async function runFirewallCheck(options: FirewallCheckOptions): Promise<CommandOutcome> {
  const bad = (message: string): CommandOutcome => ({ exitCode: EXIT_BAD_INPUT, stdout: '', stderr: `harness firewall check: ${message}\n` });
  const proto = options.proto ?? 'tcp';
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') return bad(`--proto must be tcp, udp or icmp, got '${proto}'`);
  const port = typeof options.port === 'number' ? options.port : /^[0-9]+$/.test(options.port) ? Number(options.port) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return bad(`--port must be a whole number 0-65535, got '${String(options.port)}'`);

  let names: NameRegistry;
  try {
    names = new NameRegistry(options.nodes);
  } catch (error) {
    if (isHarnessError(error)) return bad(`${options.source}: ${error.message}`);
    throw error;
  }
  const warnings = options.nodes.flatMap((node) =>
    node.firewall.warnings.map((warning) => `warning: ${options.source}: nodes.${node.identity.name}.firewall: ${warning}\n`),
  );
  const find = (wanted: string) => {
    const resolution = names.resolve(wanted);
    return resolution && names.node(resolution.node);
  };
  const from = find(options.from);
  const to = find(options.to);
  for (const [flag, wanted, node] of [['--from', options.from, from], ['--to', options.to, to]] as const) {
    if (!node) return bad(`${options.source}: ${flag} ${wanted}: no such node (nodes: ${names.nodeNames().join(', ')})`);
  }
  const verdict = evaluateFlow({ from: from!, to: to!, port, proto });
  const report: FirewallCheckReport = {
    verdict: verdict.verdict,
    from: from!.identity.name,
    to: to!.identity.name,
    port,
    proto,
    outbound: verdict.outbound,
    inbound: verdict.inbound,
  };
  const stdout = options.json ? `${JSON.stringify(report, null, 2)}\n` : formatText(report);
  return { exitCode: 0, stdout, stderr: warnings.join('') };
}

function formatText(report: FirewallCheckReport): string {
  const lines = [`${report.from} -> ${report.to}:${report.port}/${report.proto}: ${report.verdict}`];
  for (const side of [report.outbound, report.inbound]) lines.push(...formatSide(side));
  return `${lines.join('\n')}\n`;
}

function formatSide(side: SideVerdict): string[] {
  const head = `  ${side.direction} ${side.node}:`;
  if (side.allowed) return [`${head} allowed by rule #${side.ruleIndex} ${side.rule}`];
  if (side.misses.length === 0) return [`${head} denied (${side.direction}_action ${side.action}): no ${side.direction} rules (default deny)`];
  return [
    `${head} denied (${side.direction}_action ${side.action}): no rule matches`,
    ...side.misses.map((m) => `    rule #${m.index} ${m.rule}: ${m.why}`),
  ];
}
