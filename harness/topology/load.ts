import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { z } from 'zod';
import { CURRENT_NEBULA, parseFirewall, type Firewall, type NebulaVersion } from '../network/index.ts';
import { parseWorkerConfig, parseWorkerSettings, type WorkerSettings } from '../client/index.ts';
import { isHarnessError } from '../../common/index.ts';
import { TopologyError, type SourceLocation } from './errors.ts';
import { expandMatrix } from './matrix.ts';
import { isPlainObject, mergePatch } from './merge-patch.ts';
import { ScenarioFileSchema, type NodeSpec, type ScenarioFile } from './schema.ts';
import { formatField, locate, readYamlSource, type FieldPath, type Origins, type YamlSource } from './source.ts';
import type { ContainerSpec, Scenario, Topology, TopologyNode } from './topology.ts';

interface Resolved {
  data: Record<string, unknown>;
  origins: Origins;
}

/**
 * Loads one scenario file: follows `extends`, applies `patch`, expands a `matrix`, validates,
 * and returns the scenarios it defines. Any mistake throws a TopologyError naming file, line and field.
 *
 * @example
 * const [step] = await loadScenarioFile('scenarios/incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml', { root: 'scenarios' });
 */
export async function loadScenarioFile(file: string, options: LoadOptions = {}): Promise<Scenario[]> {
  const absolute = path.resolve(file);
  const read = options.sources ? cachedReader(options.sources) : readYamlSource;
  const { data, origins } = await resolveExtends(absolute, [], read);
  const baseId = scenarioId(absolute, options.root);
  const members = expandMatrix(data, origins);
  return Promise.all(
    members.map(async (member) => {
      const parsed = validate(member.data, member.origins, absolute);
      return {
        id: member.suffix ? `${baseId}/${member.suffix}` : baseId,
        file: absolute,
        sources: sourceFiles(absolute, member.origins, parsed),
        description: parsed.description,
        topology: await buildTopology(parsed, member.origins, absolute),
        expect: parsed.expect,
      };
    }),
  );
}

function sourceFiles(file: string, origins: Origins, parsed: ScenarioFile): string[] {
  const workerFiles = Object.values(parsed.nodes).flatMap((node) => (node.worker ? [node.worker.config_file, node.worker.settings_file] : []));
  const files = [file, ...origins.map((origin) => origin.source.file), ...workerFiles];
  return [...new Set(files.filter((entry): entry is string => typeof entry === 'string'))];
}

/** The id of a scenario file: its path under `root`, without `.yaml`. */
export function scenarioId(file: string, root?: string): string {
  const relative = root ? path.relative(path.resolve(root), file) : path.basename(file);
  const inside = root && !relative.startsWith('..') ? relative : path.basename(file);
  return inside.replace(/\.ya?ml$/, '').split(path.sep).join('/');
}

export interface LoadOptions {
  /** Folder that scenario ids are relative to. */
  root?: string;
  /** Files already read, shared by the loads of one run: a base many steps extend is read once. */
  sources?: Map<string, Promise<YamlSource>>;
}

function cachedReader(sources: Map<string, Promise<YamlSource>>): (file: string) => Promise<YamlSource> {
  return (file) => {
    let source = sources.get(file);
    if (!source) sources.set(file, (source = readYamlSource(file)));
    return source;
  };
}

async function resolveExtends(file: string, chain: string[], read: (file: string) => Promise<YamlSource>): Promise<Resolved> {
  if (chain.includes(file)) {
    throw new TopologyError('ERR_SCENARIO_EXTENDS', `extends forms a cycle: ${[...chain, file].join(' -> ')}`, {
      file,
    });
  }
  const source = await read(file);
  if (!isPlainObject(source.data)) {
    throw new TopologyError('ERR_SCENARIO_INVALID', 'a scenario file must be a YAML mapping', { file, line: 1 });
  }
  const own = absolutizePaths(source.data, path.dirname(file));
  const { extends: parent, patch, ...fields } = own;
  if (parent === undefined) {
    if (patch !== undefined) fail(source, ['patch'], '`patch` needs `extends`: there is nothing to patch');
    return { data: fields, origins: [{ source, prefix: [] }] };
  }
  if (typeof parent !== 'string') fail(source, ['extends'], 'must be a path to a topology or scenario file');
  if (patch !== undefined && !isPlainObject(patch)) fail(source, ['patch'], 'must be a mapping');
  const baseFile = path.resolve(path.dirname(file), parent);
  let base: Resolved;
  try {
    base = await resolveExtends(baseFile, [...chain, file], read);
  } catch (error) {
    if (isHarnessError(error, 'ERR_SCENARIO_NOT_FOUND') && (error as TopologyError).location?.file === baseFile) {
      fail(source, ['extends'], `no such file: ${baseFile}`, 'ERR_SCENARIO_EXTENDS');
    }
    throw error;
  }
  // A step inherits the topology, not the base's own description, expectations or matrix.
  const { description: _d, expect: _e, matrix: _m, ...inherited } = base.data;
  // Only `nodes` merges; the step's own fields (expect, matrix, ...) are taken as written, nulls included.
  const { nodes, ...ownFields } = fields;
  const patched = {
    ...(mergePatch(mergePatch(inherited, patch ?? {}), nodes === undefined ? {} : { nodes }) as Record<string, unknown>),
    ...ownFields,
  };
  return {
    data: patched,
    origins: [{ source, prefix: ['patch'] }, { source, prefix: [] }, ...base.origins],
  };
}

/** File paths in a worker block are relative to the file that names them. */
function absolutizePaths(data: Record<string, unknown>, dir: string): Record<string, unknown> {
  const copy = structuredClone(data);
  for (const nodes of [copy.nodes, isPlainObject(copy.patch) ? copy.patch.nodes : undefined]) {
    if (!isPlainObject(nodes)) continue;
    for (const node of Object.values(nodes)) {
      if (!isPlainObject(node) || !isPlainObject(node.worker)) continue;
      for (const key of ['config_file', 'settings_file']) {
        const value = node.worker[key];
        if (typeof value === 'string') node.worker[key] = path.resolve(dir, value);
      }
    }
  }
  return copy;
}

function validate(data: unknown, origins: Origins, file: string): ScenarioFile {
  const result = ScenarioFileSchema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const field = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  throw new TopologyError('ERR_SCENARIO_INVALID', describeIssue(issue), locate(origins, field, file));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_union') return 'not one of the accepted forms (see the README\'s scenario format)';
  return issue.message;
}

function fail(source: YamlSource, field: FieldPath, message: string, code: 'ERR_SCENARIO_INVALID' | 'ERR_SCENARIO_EXTENDS' = 'ERR_SCENARIO_INVALID'): never {
  throw new TopologyError(code, message, source.locate(field) ?? { file: source.file, field: formatField(field) });
}

async function buildTopology(parsed: ScenarioFile, origins: Origins, file: string): Promise<Topology> {
  const entries = Object.entries(parsed.nodes);
  const nebula = parsed.nebula ?? CURRENT_NEBULA;
  const nodes: TopologyNode[] = [];
  for (const [index, [name, spec]] of entries.entries()) {
    const at = (...field: FieldPath) => locate(origins, ['nodes', name, ...field], file);
    if (spec.run === 'worker' && !spec.worker) {
      throw new TopologyError('ERR_SCENARIO_INVALID', 'a node that runs the worker needs a `worker:` block', at('run'));
    }
    if (spec.run !== 'worker' && spec.worker) {
      throw new TopologyError('ERR_SCENARIO_INVALID', `only a node with run: worker has a worker block (this one runs ${spec.run})`, at('worker'));
    }
    if (spec.run !== 'worker' && !spec.service) {
      throw new TopologyError('ERR_SCENARIO_INVALID', `a node running ${spec.run} needs \`service: {name, port}\``, at('run'));
    }
    const container = containerOf(spec, at);
    nodes.push({
      name,
      run: spec.run,
      identity: {
        name,
        ip: spec.ip ?? `10.42.${Math.floor((index + 1) / 250)}.${((index + 1) % 250) + 1}`,
        groups: spec.groups,
        ...(spec.ca_name === undefined ? {} : { caName: spec.ca_name }),
        ...(spec.ca_sha === undefined ? {} : { caSha: spec.ca_sha }),
        ...(spec.subnets === undefined ? {} : { subnets: spec.subnets }),
      },
      firewall: firewallOf(spec, nebula, at),
      firewallConfig: spec.firewall ?? {},
      service: spec.service && {
        ...spec.service,
        host: `${spec.service.name}.service.${parsed.dc}.consul`,
      },
      env: spec.env,
      worker: spec.worker && (await workerOf(spec.worker, at)),
      container,
    });
  }
  checkNames(nodes, origins, file);
  if (!nodes.some((node) => node.run === 'worker')) {
    throw new TopologyError('ERR_SCENARIO_INVALID', 'the topology has no node with run: worker', locate(origins, ['nodes'], file));
  }
  return { dc: parsed.dc, nebula, timeoutMs: parsed.timeout_ms, nodes };
}

/** A bring-your-own server: `image` and/or `command`, with `ready` and `container_port` only alongside them. */
function containerOf(spec: NodeSpec, at: (...field: FieldPath) => SourceLocation): ContainerSpec | undefined {
  if (spec.image === undefined && spec.command === undefined) {
    const stray = (['ready', 'container_port'] as const).find((key) => spec[key] !== undefined);
    if (stray) throw new TopologyError('ERR_SCENARIO_INVALID', `\`${stray}\` belongs to a server you bring: give \`image\` or \`command\` too`, at(stray));
    return undefined;
  }
  const field = spec.image === undefined ? 'command' : 'image';
  if (spec.run === 'worker') {
    throw new TopologyError('ERR_SCENARIO_INVALID', 'the worker node runs the harness\'s own worker; `image`/`command` replace a service', at(field));
  }
  const ready = spec.ready ?? { http: '/' };
  if ('log' in ready) {
    try {
      new RegExp(ready.log);
    } catch (error) {
      throw new TopologyError('ERR_SCENARIO_INVALID', `not a regular expression: ${(error as Error).message}`, at('ready', 'log'));
    }
  }
  return { image: spec.image, command: spec.command, ready, port: spec.container_port ?? spec.service!.port };
}

function firewallOf(spec: NodeSpec, nebula: NebulaVersion, at: (...field: FieldPath) => SourceLocation): Firewall {
  try {
    return parseFirewall(spec.firewall ?? {}, { nebula });
  } catch (error) {
    if (!isHarnessError(error)) throw error;
    const inner = (error as { path?: FieldPath }).path ?? [];
    throw new TopologyError('ERR_SCENARIO_INVALID', error.message, at('firewall', ...inner), { cause: error });
  }
}

async function workerOf(worker: NonNullable<NodeSpec['worker']>, at: (...field: FieldPath) => SourceLocation) {
  const forms = (['mcp_servers', 'mcpServers', 'config_file'] as const).filter((key) => worker[key] !== undefined);
  if (forms.length !== 1) {
    throw new TopologyError(
      'ERR_SCENARIO_INVALID',
      forms.length === 0
        ? 'the worker needs its MCP servers: mcp_servers (agent_config.yaml), mcpServers (Claude Code JSON) or config_file'
        : `give the worker's MCP servers one way, not ${forms.join(' and ')}`,
      at('worker', forms[1] ?? 'worker'),
    );
  }
  const [form] = forms as [(typeof forms)[number]];
  const config = await withLocation(at('worker', form), async () => {
    if (form === 'config_file') {
      const configFile = worker.config_file as string;
      const text = await readText(configFile, at('worker', form));
      return parsedOnce(`config\u0000${configFile}\u0000${text}`, () => parseWorkerConfig(text, { file: configFile }));
    }
    const location = at('worker', form);
    const file = `${location.file}:${location.line ?? ''} (${location.field})`;
    return parsedOnce(`config\u0000${file}\u0000${form}\u0000${JSON.stringify(worker[form])}`, () => {
      const text = form === 'mcp_servers' ? stringify({ mcp_servers: worker.mcp_servers }) : JSON.stringify({ mcpServers: worker.mcpServers });
      return parseWorkerConfig(text, { file, format: form === 'mcp_servers' ? 'agent-config' : 'claude-json' });
    });
  });
  let settings: WorkerSettings | undefined;
  if (worker.settings !== undefined && worker.settings_file !== undefined) {
    throw new TopologyError('ERR_SCENARIO_INVALID', 'give settings inline or as settings_file, not both', at('worker', 'settings_file'));
  }
  if (worker.settings !== undefined) {
    const location = at('worker', 'settings');
    const file = `${location.file}:${location.line ?? ''} (${location.field})`;
    const text = JSON.stringify(worker.settings);
    settings = await withLocation(location, async () => parsedOnce(`settings\u0000${file}\u0000${text}`, () => parseWorkerSettings(text, { file })));
  } else if (worker.settings_file !== undefined) {
    const settingsFile = worker.settings_file;
    settings = await withLocation(at('worker', 'settings_file'), async () => {
      const text = await readText(settingsFile, at('worker', 'settings_file'));
      return parsedOnce(`settings\u0000${settingsFile}\u0000${text}`, () => parseWorkerSettings(text, { file: settingsFile }));
    });
  }
  return { servers: config.servers, env: worker.env, tokens: worker.tokens, settings, client: worker.client, revision: worker.client_revision };
}

/**
 * Worker configs and settings parsed this process, by file and text: the steps of an incident and
 * the members of a family mostly share their base's, and parsing them (YAML with positions) was a
 * third of a generated scenario's load (bench/RESULTS.md). Bounded; shared frozen, never copied.
 */
const parsedWorkerFiles = new Map<string, unknown>();
const PARSED_WORKER_FILES_KEPT = 256;

function parsedOnce<T>(key: string, parse: () => T): T {
  let parsed = parsedWorkerFiles.get(key) as T | undefined;
  if (parsed === undefined) {
    parsed = deepFreeze(parse());
    if (parsedWorkerFiles.size >= PARSED_WORKER_FILES_KEPT) parsedWorkerFiles.delete(parsedWorkerFiles.keys().next().value!);
    parsedWorkerFiles.set(key, parsed);
  }
  return parsed;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

async function withLocation<T>(location: SourceLocation, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isHarnessError(error) && !(error instanceof TopologyError)) {
      throw new TopologyError('ERR_SCENARIO_INVALID', error.message, { file: location.file, line: location.line }, { cause: error });
    }
    throw error;
  }
}

async function readText(file: string, location: SourceLocation): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new TopologyError('ERR_SCENARIO_INVALID', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, location);
  }
}

function checkNames(nodes: TopologyNode[], origins: Origins, file: string): void {
  const seen = new Map<string, string>();
  for (const node of nodes) {
    for (const name of node.service ? [node.service.host, ...node.service.aliases] : []) {
      const other = seen.get(name);
      if (other) {
        throw new TopologyError('ERR_SCENARIO_INVALID', `${name} is served by both ${other} and ${node.name}`, locate(origins, ['nodes', node.name, 'service'], file));
      }
      seen.set(name, node.name);
    }
  }
}
