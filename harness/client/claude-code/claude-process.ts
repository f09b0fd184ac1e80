import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ClientError } from '../errors.ts';
import type { ClaudeMcpJson } from '../worker-client.ts';

/** Beyond MCP_TIMEOUT: the binary's own start (a 400 MB executable on a busy 2-core machine). */
const START_ALLOWANCE_MS = 30_000;
/** After the init line, how long Claude Code gets to end on SIGTERM (flushing its MCP logs) before SIGKILL. */
const TERM_GRACE_MS = 2_000;

/** The init line's MCP fields (the rest of the line is Claude Code's business). */
export interface ClaudeInitLine {
  type: 'system';
  subtype: 'init';
  mcp_servers: { name: string; status: string; source?: string }[];
  tools: string[];
  claude_code_version?: string;
  [key: string]: unknown;
}

/** One line of Claude Code's per-server MCP log (`~/.cache/claude-cli-nodejs/<project>/mcp-logs-<server>/*.jsonl`). */
export interface ClaudeMcpLogLine {
  debug?: string;
  error?: string;
  timestamp?: string;
}

export interface ClaudeRunInput {
  binary: string;
  mcpJson: ClaudeMcpJson;
  /** settings.json content, passed with --settings. */
  settingsJson: unknown;
  /** The whole environment of the process (nothing of the harness's own is added). */
  env: Record<string, string>;
  mcpTimeoutMs: number;
  /**
   * Run it in a network namespace of its own with only loopback (`unshare -n`), its proxy a bridge
   * to `egress` over a Unix socket: then nothing it does can reach anything but the egress.
   */
  isolate?: { egress: { host: string; port: number } } | undefined;
}

export interface ClaudeRun {
  init: ClaudeInitLine;
  /** By server name, in the order Claude Code wrote them. */
  mcpLogs: Record<string, ClaudeMcpLogLine[]>;
  /** From spawn to the init line. */
  elapsedMs: number;
  /** Whether it ran in a network namespace of its own. */
  isolated: boolean;
}

const BRIDGE_MAIN = fileURLToPath(new URL('./netns-bridge-main.ts', import.meta.url));
let namespacesWork: boolean | undefined;

/**
 * Whether this process may give a child a network namespace of its own: root, `unshare` and `ip`
 * present and working (checked once).
 *
 * @example
 * const isolate = canIsolateNetwork() ? { egress } : undefined;
 */
export function canIsolateNetwork(): boolean {
  if (namespacesWork === undefined) {
    namespacesWork =
      process.platform === 'linux' &&
      process.getuid?.() === 0 &&
      spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  }
  return namespacesWork;
}

/** Process groups still running and their temp dirs: gone if this process exits or is interrupted first. */
const running = new Set<number>();
const dirs = new Set<string>();
let hooksInstalled = false;

/**
 * Runs `claude -p` in a fresh temp dir (its HOME, TMPDIR and working directory) until it prints
 * its init line, then stops its whole process group and reads its per-server MCP logs. The temp
 * dir is removed and no process outlives the call, also when it throws.
 *
 * @example
 * const run = await runClaudeUntilInit({ binary, mcpJson, settingsJson: undefined, env, mcpTimeoutMs: 30_000 });
 * run.init.mcp_servers; // [{ name: 'prometheus', status: 'failed' }, ...]
 */
export async function runClaudeUntilInit(input: ClaudeRunInput): Promise<ClaudeRun> {
  // Before anything exists to clean up: a Ctrl-C from here on removes the temp dir and the process group.
  installHooks();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mth-claude-'));
  dirs.add(dir);
  let child: ChildProcess | undefined;
  let bridge: { close(): Promise<void> } | undefined;
  try {
    const home = path.join(dir, 'home');
    const work = path.join(dir, 'work');
    await Promise.all([mkdir(home), mkdir(work)]);
    const mcpConfig = path.join(dir, 'mcp.json');
    await writeFile(mcpConfig, `${JSON.stringify(input.mcpJson, null, 2)}\n`);
    const args = ['-p', 'hi', '--output-format', 'stream-json', '--verbose', '--mcp-config', mcpConfig, '--strict-mcp-config'];
    if (input.settingsJson !== undefined) {
      const settings = path.join(dir, 'settings.json');
      await writeFile(settings, `${JSON.stringify(input.settingsJson, null, 2)}\n`);
      args.push('--settings', settings);
    }
    const started = performance.now();
    const env = { ...input.env, HOME: home, TMPDIR: dir };
    if (input.isolate) {
      const socket = path.join(dir, 'egress.sock');
      bridge = await bridgeTo(socket, input.isolate.egress);
      child = spawn('unshare', ['-n', '--', process.execPath, BRIDGE_MAIN, socket, '--', input.binary, ...args], {
        cwd: work,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } else {
      child = spawn(input.binary, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    }
    track(child);
    const init = await readInit(child, input.mcpTimeoutMs + START_ALLOWANCE_MS);
    const elapsedMs = performance.now() - started;
    await stop(child);
    return { init, mcpLogs: await readMcpLogs(home), elapsedMs, isolated: input.isolate !== undefined };
  } finally {
    if (child) await stop(child);
    await bridge?.close();
    await rm(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }
}

/** The namespace's way out: a Unix socket whose every connection is piped to the egress. */
async function bridgeTo(socketPath: string, egress: { host: string; port: number }): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inside) => {
    const outside = net.connect(egress.port, egress.host);
    sockets.add(inside).add(outside);
    inside.pipe(outside).pipe(inside);
    const end = () => {
      inside.destroy();
      outside.destroy();
      sockets.delete(inside);
      sockets.delete(outside);
    };
    inside.on('error', end).on('close', end);
    outside.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function track(child: ChildProcess): void {
  if (child.pid === undefined) return;
  running.add(child.pid);
  child.once('exit', () => running.delete(child.pid!));
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', cleanUpNow);
  // Claude Code runs in a process group of its own, so a Ctrl-C reaches only the harness: stop it here.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function cleanUpNow(): void {
  for (const pid of running) killGroup(pid, 'SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

function onSignal(signal: NodeJS.Signals): void {
  cleanUpNow();
  // Another handler (the containers runtime's) decides when to exit; alone, exit as the signal would.
  if (process.listenerCount(signal) <= 1) process.exit(signal === 'SIGINT' ? 130 : 143);
}

function readInit(child: ChildProcess, boundMs: number): Promise<ClaudeInitLine> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout! });
    const fail = (why: string) => {
      cleanup();
      reject(new ClientError('ERR_CLAUDE_NO_INIT', `Claude Code ${why} without printing its init line${stderr.trim() ? `; stderr: ${stderr.trim().slice(-1000)}` : ''}`));
    };
    const timer = setTimeout(() => fail(`ran ${boundMs} ms`), boundMs);
    const onExit = (code: number | null, signal: string | null) => fail(`exited (${signal ?? `code ${code}`})`);
    const onError = (error: Error) => fail(`could not start (${error.message})`);
    const cleanup = () => {
      clearTimeout(timer);
      lines.close();
      child.off('close', onExit);
      child.off('error', onError);
    };
    lines.on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (isInit(parsed)) {
        cleanup();
        resolve(parsed);
      }
    });
    // 'close', not 'exit': stdout is read to its end first, so a last init line is not missed.
    child.once('close', onExit);
    child.once('error', onError);
  });
}

function isInit(value: unknown): value is ClaudeInitLine {
  if (!value || typeof value !== 'object') return false;
  const line = value as Record<string, unknown>;
  return line.type === 'system' && line.subtype === 'init' && Array.isArray(line.mcp_servers) && Array.isArray(line.tools);
}

/** SIGTERM to the group, SIGKILL after the grace; resolves once the process has exited. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const pid = child.pid;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), TERM_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  // Anything the binary left in its group (the leader is gone).
  killGroup(pid, 'SIGKILL');
  running.delete(pid);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

async function readMcpLogs(home: string): Promise<Record<string, ClaudeMcpLogLine[]>> {
  const root = path.join(home, '.cache', 'claude-cli-nodejs');
  const logs: Record<string, ClaudeMcpLogLine[]> = {};
  const projects = await readdir(root).catch(() => [] as string[]);
  for (const project of projects) {
    const dirs = await readdir(path.join(root, project)).catch(() => [] as string[]);
    for (const dir of dirs.filter((name) => name.startsWith('mcp-logs-'))) {
      const server = dir.slice('mcp-logs-'.length);
      const files = (await readdir(path.join(root, project, dir)).catch(() => [] as string[])).filter((name) => name.endsWith('.jsonl')).sort();
      for (const file of files) {
        const text = await readFile(path.join(root, project, dir, file), 'utf8').catch(() => '');
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          try {
            (logs[server] ??= []).push(JSON.parse(line) as ClaudeMcpLogLine);
          } catch {
            // A line cut by the stop.
          }
        }
      }
    }
  }
  return logs;
}
