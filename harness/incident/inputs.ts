import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { parseWorkerConfig, parseWorkerSettings } from '../client/index.ts';
import { isHarnessError } from '../../common/index.ts';
import { NetworkError, parseFirewall } from '../network/index.ts';
import { formatLocation, parseYamlSource, TokenKindSchema, type Scenario, type TokenSpec, type YamlSource } from '../topology/index.ts';
import { IncidentError } from './errors.ts';

/** The user's own material, as flags name it. */
export interface UserFlags {
  /** The worker's agent_config.yaml or Claude Code `.mcp.json`. */
  config?: string;
  /** The worker's settings.json. */
  settings?: string;
  /** `NODE=config.yml`: a Nebula config (or a deploy file with `nebula.firewall`) per node. */
  nebula?: string[];
  /** `NODE=a,b,c`, or `NODE=@file` (a pod YAML with the `slack.com/nebula.groups` annotation, or `nebula-cert print -json` output). */
  groups?: string[];
  /** `VAR=kind`: a token the auth server mints for the worker's env var. */
  token?: string[];
  /** `NAME=VALUE`: the worker's environment. */
  env?: string[];
}

/** The user's material, read and checked against the base topology's nodes. */
export interface UserInputs {
  config: { file: string } | undefined;
  settings: { file: string } | undefined;
  firewalls: Array<{ node: string; file: string; field: string; section: Record<string, unknown> }>;
  groups: Array<{ node: string; groups: string[]; from: string; ip?: string }>;
  tokens: Array<{ variable: string; token: TokenSpec }>;
  env: Record<string, string>;
}

/**
 * Reads and checks every file and flag before anything starts: a Nebula config without a
 * `firewall:` section, an unknown node, a token kind that does not exist each throw an
 * IncidentError naming the file, line and field (or the flag).
 *
 * @example
 * const inputs = await readUserInputs({ config: 'agent_config.yaml', nebula: ['claude-worker=gondola.yaml'] }, base);
 */
export async function readUserInputs(flags: UserFlags, base: Scenario): Promise<UserInputs> {
  const nodes = base.topology.nodes.map((node) => node.name);
  const nodeOf = (flag: string, name: string) => {
    if (!nodes.includes(name)) throw new IncidentError('ERR_INPUT_NODE', `${flag} ${name}=...: the base topology ${base.file} has no node ${name} (nodes: ${nodes.join(', ')})`);
    return name;
  };
  const inputs: UserInputs = { config: undefined, settings: undefined, firewalls: [], groups: [], tokens: [], env: {} };
  if (flags.config) {
    parseWorkerConfig(await readText(flags.config), { file: flags.config });
    inputs.config = { file: flags.config };
  }
  if (flags.settings) {
    parseWorkerSettings(await readText(flags.settings), { file: flags.settings });
    inputs.settings = { file: flags.settings };
  }
  for (const [name, file] of (flags.nebula ?? []).map((pair) => split('--nebula', pair))) {
    inputs.firewalls.push({ node: nodeOf('--nebula', name), file, ...(await nebulaFirewall(file)) });
  }
  for (const [name, value] of (flags.groups ?? []).map((pair) => split('--groups', pair))) {
    inputs.groups.push({ node: nodeOf('--groups', name), ...(value.startsWith('@') ? await groupsFromFile(value.slice(1)) : groupsFromList(name, value)) });
  }
  for (const [variable, kind] of (flags.token ?? []).map((pair) => split('--token', pair))) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new IncidentError('ERR_INPUT_FLAG', `--token ${variable}=${kind}: ${variable} is not an environment variable name`);
    const parsed = TokenKindSchema.safeParse(kind);
    if (!parsed.success) throw new IncidentError('ERR_INPUT_TOKEN', `--token ${variable}=${kind}: no token kind ${kind} (kinds: ${TokenKindSchema.options.join(', ')})`);
    inputs.tokens.push({ variable, token: { kind: parsed.data } });
  }
  for (const [name, value] of (flags.env ?? []).map((pair) => split('--env', pair, true))) inputs.env[name] = value;
  return inputs;
}

function split(flag: string, pair: string, emptyValue = false): [string, string] {
  const at = pair.indexOf('=');
  if (at <= 0 || (!emptyValue && at === pair.length - 1)) throw new IncidentError('ERR_INPUT_FLAG', `${flag} wants NAME=VALUE, got "${pair}"`);
  return [pair.slice(0, at), pair.slice(at + 1)];
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IncidentError('ERR_INPUT_READ', `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read: ${(error as Error).message}`}`);
  }
}

async function readYaml(file: string): Promise<YamlSource> {
  const text = await readText(file);
  try {
    return parseYamlSource(file, text);
  } catch (error) {
    if (isHarnessError(error)) throw new IncidentError('ERR_INPUT_READ', error.message, { cause: error });
    throw error;
  }
}

/** The `firewall:` section of a Nebula config.yml, or `nebula.firewall` of a deploy file (gondola.yaml), checked as Nebula 1.6.1 loads it. */
async function nebulaFirewall(file: string): Promise<{ field: string; section: Record<string, unknown> }> {
  const source = await readYaml(file);
  const data = source.data as Record<string, unknown> | undefined;
  const nested = isMap(data) && isMap(data.nebula) ? data.nebula : undefined;
  const [at, section] = isMap(data) && 'firewall' in data ? [['firewall'], data.firewall] : nested && 'firewall' in nested ? [['nebula', 'firewall'], nested.firewall] : [undefined, undefined];
  if (!at) {
    throw new IncidentError('ERR_INPUT_NEBULA', `${formatLocation({ file, line: 1, field: 'firewall' })}: no firewall: section (nor nebula.firewall:): --nebula takes the node's Nebula config.yml or its deploy file`);
  }
  if (!isMap(section)) {
    throw new IncidentError('ERR_INPUT_NEBULA', `${formatLocation(source.locate(at) ?? { file, field: at.join('.') })}: firewall failed to parse, should be a map`);
  }
  try {
    parseFirewall(section);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    const where = source.locate([...at, ...(error.path ?? [])]) ?? { file, field: at.join('.') };
    throw new IncidentError('ERR_INPUT_NEBULA', `${formatLocation(where)}: ${error.message}`, { cause: error });
  }
  return { field: at.join('.'), section };
}

function groupsFromList(node: string, value: string): { groups: string[]; from: string } {
  const groups = value.split(',').map((group) => group.trim());
  if (groups.some((group) => group === '')) throw new IncidentError('ERR_INPUT_GROUPS', `--groups ${node}=${value}: an empty group name`);
  return { groups, from: '--groups' };
}

/** Groups (and the overlay IP) from `nebula-cert print -json` output, or from a pod's `slack.com/nebula.groups` annotation. */
async function groupsFromFile(file: string): Promise<{ groups: string[]; from: string; ip?: string }> {
  const source = await readYaml(file);
  const data = source.data;
  if (isMap(data) && isMap(data.details) && Array.isArray(data.details.groups)) {
    const groups = data.details.groups.map(String);
    const ip = Array.isArray(data.details.ips) && typeof data.details.ips[0] === 'string' ? data.details.ips[0].split('/')[0] : undefined;
    return { groups, from: `${file} (nebula-cert print -json: details.groups${ip ? ', details.ips' : ''})`, ...(ip && net.isIP(ip) ? { ip } : {}) };
  }
  // A pod, or `kubectl get pods -o yaml`'s List of them.
  const pods = isMap(data) && Array.isArray(data.items) ? data.items.map((item, index) => [item, ['items', index]] as const) : [[data, []] as const];
  for (const [pod, prefix] of pods) {
    const annotations = isMap(pod) && isMap(pod.metadata) && isMap(pod.metadata.annotations) ? pod.metadata.annotations : undefined;
    const value = annotations?.[ANNOTATION];
    if (value === undefined) continue;
    const field = [...prefix, 'metadata', 'annotations', ANNOTATION];
    const where = formatLocation(source.locate(field) ?? { file, field: field.join('.') });
    const groups = annotationGroups(value, where);
    return { groups, from: `${file} (${ANNOTATION} annotation)` };
  }
  throw new IncidentError('ERR_INPUT_GROUPS', `${formatLocation({ file, line: 1 })}: neither nebula-cert print -json output (details.groups) nor a pod with the ${ANNOTATION} annotation`);
}

const ANNOTATION = 'slack.com/nebula.groups';

/** The annotation's value: a JSON list (`["dev", "monitoring-mcp"]`) or a comma-separated one. */
function annotationGroups(value: unknown, where: string): string[] {
  if (typeof value !== 'string') throw new IncidentError('ERR_INPUT_GROUPS', `${where}: the annotation should be a string`);
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((group) => typeof group === 'string' && group !== '')) return parsed;
    } catch {
      // reported below
    }
    throw new IncidentError('ERR_INPUT_GROUPS', `${where}: the annotation is not a JSON list of group names: ${text}`);
  }
  const groups = text.split(',').map((group) => group.trim());
  if (groups.some((group) => group === '')) throw new IncidentError('ERR_INPUT_GROUPS', `${where}: an empty group name in ${text}`);
  return groups;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
