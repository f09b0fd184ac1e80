import { rmSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkerLaunch } from '../client/index.ts';
import type { Runtime, RuntimeOptions, StartedTopology } from '../runtime/index.ts';
import { loadScenarioFile, resolveScenarioArgs, type Scenario } from '../topology/index.ts';
import { hasUserMaterial, userScenario, type Provenance, type UserFlags } from '../incident/index.ts';
import { UpError } from './errors.ts';
import { verdictChanges, type UpEdit } from './live.ts';

/** Where `harness up` wrote the worker's files: a temp dir removed on close. */
export interface WorkerFiles {
  dir: string;
  /** Claude Code's `.mcp.json` (`claude --mcp-config FILE`). */
  mcpJson: string;
  /** settings.json (`claude --settings FILE`), when the scenario has one. */
  settingsJson: string | undefined;
  /** `export` lines of the worker's environment and egress, for `source`. */
  envSh: string;
}

/** A topology kept up for clients the harness does not run: what `harness up` holds until Ctrl-C. */
export interface StartedUp extends AsyncDisposable {
  readonly scenario: Scenario;
  readonly runtime: string;
  readonly running: StartedTopology;
  readonly launch: WorkerLaunch;
  readonly files: WorkerFiles;
  /** The target file (also when user material patches it); `scenario.sources` are the files whose edits `harness up` applies. */
  readonly source: string;
  /** Which parts came from the user's material and which from the target (empty without any). */
  readonly provenance: Provenance[];
  /** The environment a command run as the worker gets (on top of the caller's): env, tokens, proxies, file paths. */
  readonly workerEnv: Record<string, string>;
  /**
   * Reads the scenario file (and what it extends) again and applies what changed to the running topology (see
   * StartedTopology.update); rewrites the worker's files when its config changed. A file that no
   * longer loads throws its TopologyError and leaves everything running as it was.
   */
  reload(changed?: string): Promise<UpEdit>;
  close(): Promise<void>;
}

export interface StartUpOptions {
  /** Scenarios folder that ids are relative to. */
  root: string;
  /** The user's own files and flags, patched onto the target as `harness check` does. */
  userFlags?: UserFlags;
  runtime: Runtime;
  runtimeOptions?: RuntimeOptions;
}

/**
 * Loads one scenario or topology (a file, or an id under `root`) with every error before anything
 * starts, brings it up, mints the worker's tokens and writes its `.mcp.json`, settings.json and
 * env.sh into a temp dir. close() stops everything and removes the dir.
 *
 * @example
 * await using up = await startUp('incidents/2025-10-01-prometheus-mcp/0-as-reported', { root: 'scenarios', runtime: inProcessRuntime });
 * up.workerEnv.HTTP_PROXY; // the worker's egress
 */
export async function startUp(target: string, options: StartUpOptions): Promise<StartedUp> {
  let scenario = await resolveUpTarget(target, options.root);
  const source = scenario.file;
  let provenance: Provenance[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'harness-up-'));
  // An exit that skips close() (the containers runtime exits on SIGINT once its containers are gone) still removes the dir.
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  let running: StartedTopology;
  try {
    if (options.userFlags && hasUserMaterial(options.userFlags)) {
      // The patched scenario lives in the temp dir; it extends the target, so edits of the target still apply live.
      const made = await userScenario(scenario.file, options.userFlags, { dir, root: options.root });
      ({ scenario, provenance } = made);
    }
    running = await options.runtime.start(scenario.topology, options.runtimeOptions);
  } catch (error) {
    process.off('exit', removeOnExit);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  try {
    let launch = await running.worker();
    let files = await writeWorkerFiles(dir, launch);
    let workerEnv = workerEnvironment(launch, files);
    await writeFile(files.envSh, `${exportLines(workerEnv).join('\n')}\n`, { mode: 0o600 });
    let current = scenario;
    const reload = async (changed?: string): Promise<UpEdit> => {
      const members = await loadScenarioFile(current.file, { root: options.root });
      // A matrix member is reloaded as the same member; a plain file has one scenario.
      const loaded = members.length > 1 ? members.find((member) => member.id === current.id) : members[0];
      if (!loaded) throw new UpError('ERR_UP_RELOAD', `${current.file} no longer defines ${current.id}`);
      const next: Scenario = { ...loaded, id: current.id };
      const changes = verdictChanges(current.topology, next.topology);
      const update = await running.update(next.topology);
      current = next;
      if (update.worker) {
        launch = await running.worker();
        if (files.settingsJson) await rm(files.settingsJson, { force: true });
        files = await writeWorkerFiles(dir, launch);
        workerEnv = workerEnvironment(launch, files);
        await writeFile(files.envSh, `${exportLines(workerEnv).join('\n')}\n`, { mode: 0o600 });
      }
      return { file: changed ?? current.file, changes, ...update };
    };
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        try {
          await running.close();
        } finally {
          // In this order: an exit while rm runs (the containers runtime's on SIGINT) still removes the dir.
          await rm(dir, { recursive: true, force: true });
          process.off('exit', removeOnExit);
        }
      })();
      return closing;
    };
    return {
      get scenario() {
        return current;
      },
      runtime: options.runtime.name,
      running,
      source,
      provenance,
      get launch() {
        return launch;
      },
      get files() {
        return files;
      },
      get workerEnv() {
        return workerEnv;
      },
      reload,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await running.close();
    process.off('exit', removeOnExit);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One scenario from a file, an id, or a topology under `root` (`topologies/monitoring-dev`). */
export async function resolveUpTarget(target: string, root: string): Promise<Scenario> {
  const candidates = [target, path.join(root, target), path.join(root, `${target}.yaml`)];
  for (const candidate of candidates) {
    const isFile = await stat(candidate).then((s) => s.isFile(), () => false);
    if (isFile) return only(await loadScenarioFile(candidate, { root }), target);
  }
  return only(await resolveScenarioArgs([target], { root }), target);
}

function only(scenarios: Scenario[], target: string): Scenario {
  if (scenarios.length !== 1) {
    throw new UpError(
      'ERR_UP_TARGET',
      `${target} is ${scenarios.length} scenarios (${scenarios.slice(0, 3).map((scenario) => scenario.id).join(', ')}${scenarios.length > 3 ? ', ...' : ''}): harness up brings up one; name one of them`,
    );
  }
  return scenarios[0]!;
}

async function writeWorkerFiles(dir: string, launch: WorkerLaunch): Promise<WorkerFiles> {
  const mcpJson = path.join(dir, '.mcp.json');
  await writeFile(mcpJson, `${JSON.stringify(launch.mcpJson, null, 2)}\n`, { mode: 0o600 });
  let settingsJson: string | undefined;
  if (launch.settingsJson) {
    settingsJson = path.join(dir, 'settings.json');
    await writeFile(settingsJson, `${JSON.stringify(launch.settingsJson, null, 2)}\n`, { mode: 0o600 });
  }
  return { dir, mcpJson, settingsJson, envSh: path.join(dir, 'env.sh') };
}

/**
 * The worker's environment for a command of the user's: the scenario's env and minted tokens, the
 * egress as every proxy variable (curl reads only the lower-case `http_proxy`; Node 24 only with
 * NODE_USE_ENV_PROXY=1), and where the files are.
 */
function workerEnvironment(launch: WorkerLaunch, files: WorkerFiles): Record<string, string> {
  const proxy = launch.egressProxyUrl;
  return {
    ...launch.env,
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    // Node 24's own fetch and http read the proxy variables only when asked to.
    NODE_USE_ENV_PROXY: '1',
    HARNESS_MCP_CONFIG: files.mcpJson,
    ...(files.settingsJson ? { HARNESS_SETTINGS: files.settingsJson } : {}),
  };
}

/**
 * `export NAME='value'` lines, quoted for POSIX shells.
 *
 * @example
 * exportLines({ HTTP_PROXY: 'http://127.0.0.1:4000' }); // ["export HTTP_PROXY='http://127.0.0.1:4000'"]
 */
export function exportLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([name, value]) => `export ${name}='${value.replaceAll("'", `'\\''`)}'`);
}
