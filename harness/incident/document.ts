import type { Scenario } from '../topology/index.ts';
import type { UserInputs } from './inputs.ts';

/** Where one part of the topology a check or an incident runs came from: the user's material or the base. */
export interface Provenance {
  /** e.g. `claude-worker firewall`, `monitoring-mcp groups`, `token PROMETHEUS_TOKEN`. */
  part: string;
  source: 'yours' | 'base' | 'none';
  /** The file, flag or field it came from. */
  from: string;
}

export interface DocumentRefs {
  /** How the document names the base (relative to where it is written, or absolute). */
  extends: string;
  /** How the document names one of the user's files (config, settings). */
  file: (userFile: string) => string;
}

/**
 * A scenario document (what a scenario file holds) that extends the base and patches in the user's
 * material: each Nebula `firewall:` section replaces the node's whole section (verbatim, not merged),
 * groups and IP replace the certificate's, the config and settings become `config_file` / `settings_file`.
 *
 * @example
 * const doc = scenarioDocument(base, inputs, { extends: '../../topologies/monitoring-dev.yaml', file: (f) => `files/${path.basename(f)}` });
 */
export function scenarioDocument(base: Scenario, inputs: UserInputs, refs: DocumentRefs): Record<string, unknown> {
  const nodes: Record<string, Record<string, unknown>> = {};
  const nodeOf = (name: string) => (nodes[name] ??= {});
  for (const { node, section } of inputs.firewalls) {
    const before = base.topology.nodes.find((candidate) => candidate.name === node)!.firewallConfig;
    nodeOf(node).firewall = replacing(before, section);
  }
  for (const { node, groups, ip } of inputs.groups) {
    Object.assign(nodeOf(node), { groups, ...(ip ? { ip } : {}) });
  }
  const worker = workerOf(base);
  const patch: Record<string, unknown> = {};
  if (inputs.config) patch.config_file = refs.file(inputs.config.file);
  if (inputs.config) Object.assign(patch, { mcp_servers: null, mcpServers: null });
  if (inputs.settings) Object.assign(patch, { settings_file: refs.file(inputs.settings.file), settings: null });
  if (inputs.tokens.length > 0) patch.tokens = Object.fromEntries(inputs.tokens.map(({ variable, token }) => [variable, token.kind]));
  if (Object.keys(inputs.env).length > 0) patch.env = inputs.env;
  if (Object.keys(patch).length > 0) nodeOf(worker.name).worker = patch;
  return { extends: refs.extends, ...(Object.keys(nodes).length > 0 ? { patch: { nodes } } : {}) };
}

/**
 * Which parts came from the user and which from the base, part by part (no silent reuse).
 *
 * @example
 * provenance(base, inputs); // [{ part: 'claude-worker MCP servers', source: 'yours', from: 'agent_config.yaml' }, ...]
 */
export function provenance(base: Scenario, inputs: UserInputs): Provenance[] {
  const worker = workerOf(base);
  const spec = worker.worker!;
  const fromBase = (field: string): Provenance['from'] => `${base.file} nodes.${worker.name}.${field}`;
  const parts: Provenance[] = [
    inputs.config
      ? { part: `${worker.name} MCP servers`, source: 'yours', from: inputs.config.file }
      : { part: `${worker.name} MCP servers`, source: 'base', from: fromBase('worker') },
    inputs.settings
      ? { part: `${worker.name} settings.json`, source: 'yours', from: inputs.settings.file }
      : spec.settings
        ? { part: `${worker.name} settings.json`, source: 'base', from: fromBase('worker.settings') }
        : { part: `${worker.name} settings.json`, source: 'none', from: 'no permissions are checked' },
  ];
  for (const node of base.topology.nodes) {
    const firewall = inputs.firewalls.find((input) => input.node === node.name);
    parts.push(
      firewall
        ? { part: `${node.name} firewall`, source: 'yours', from: `${firewall.file} (${firewall.field}:, verbatim)` }
        : { part: `${node.name} firewall`, source: 'base', from: `${base.file} nodes.${node.name}.firewall` },
    );
    const groups = inputs.groups.find((input) => input.node === node.name);
    parts.push(
      groups
        ? { part: `${node.name} groups`, source: 'yours', from: `${groups.from}: [${groups.groups.join(', ')}]${groups.ip ? `, ip ${groups.ip}` : ''}` }
        : { part: `${node.name} groups`, source: 'base', from: `${base.file} nodes.${node.name}.groups: [${node.identity.groups.join(', ')}]` },
    );
  }
  const variables = new Set([...Object.keys(spec.tokens), ...inputs.tokens.map((token) => token.variable)]);
  for (const variable of variables) {
    const mine = inputs.tokens.find((token) => token.variable === variable);
    parts.push(
      mine
        ? { part: `token ${variable}`, source: 'yours', from: `--token ${variable}=${mine.token.kind}` }
        : { part: `token ${variable}`, source: 'base', from: `${fromBase(`worker.tokens.${variable}`)}: ${spec.tokens[variable]!.kind}` },
    );
  }
  if (variables.size === 0) parts.push({ part: 'tokens', source: 'none', from: "none minted: each header's ${VAR:-default} applies" });
  for (const name of new Set([...Object.keys(spec.env), ...Object.keys(inputs.env)])) {
    parts.push(name in inputs.env ? { part: `env ${name}`, source: 'yours', from: '--env' } : { part: `env ${name}`, source: 'base', from: fromBase(`worker.env.${name}`) });
  }
  return parts;
}

/**
 * The provenance as lines, e.g. `  claude-worker firewall      yours  gondola.yaml (nebula.firewall:, verbatim)`.
 *
 * @example
 * process.stdout.write(formatProvenance(provenance(base, inputs)));
 */
export function formatProvenance(parts: readonly Provenance[]): string {
  const width = Math.max(...parts.map((part) => part.part.length));
  return `Inputs (yours, or from the base topology):\n${parts.map((part) => `  ${part.part.padEnd(width)}  ${part.source.padEnd(5)}  ${part.from}`).join('\n')}\n`;
}

function workerOf(base: Scenario) {
  return base.topology.nodes.find((node) => node.run === 'worker')!;
}

/** A JSON merge patch (RFC 7386) turning `before` into `after`: keys `after` lacks become null. */
function replacing(before: unknown, after: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...after };
  if (isMap(before)) {
    for (const [key, value] of Object.entries(before)) {
      if (!(key in after)) patch[key] = null;
      else if (isMap(value) && isMap(after[key])) patch[key] = replacing(value, after[key]);
    }
  }
  return patch;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
