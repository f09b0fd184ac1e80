#!/usr/bin/env node
// `npm run bench`: measures the harness beside the work it wraps and prints one table per part, then
// the targets; writes everything to bench/results/latest.json. Every measurement runs in a fresh
// Node process (bench/child.ts), so peak RSS and CPU are its own. Usage:
//   node bench/run.ts [--only handshake,throughput,scaling,blocked,clients,containers,containers-run] [--out file.json]
// containers-run (all of scenarios/ in containers with and without reuse, and the incidents under Claude Code there: about 15 minutes on 2 cores) runs only when named.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import type { BlockedRow } from './blocked.ts';
import type { ClientsRow } from './clients.ts';
import type { ContainersFigures, ContainersRunArgs, ContainersRunFigures } from './containers.ts';
import type { HandshakeFigures } from './handshake.ts';
import { inChild, machine, round, type ChildFigures } from './measure.ts';
import type { ScenarioRunArgs, ScenarioRunFigures } from './scenarios.ts';

const PARTS = ['handshake', 'throughput', 'scaling', 'blocked', 'clients', 'containers'] as const;
/** Parts that run only when named in --only (they take minutes). */
const OPT_IN = ['containers-run'] as const;
type Part = (typeof PARTS)[number] | (typeof OPT_IN)[number];
/**
 * On a machine with plenty of memory V8 lets the young generation and the old generation grow far
 * beyond what the harness keeps alive; these two flags keep the heap near it. Part 3 measures them
 * beside the defaults (see bench/RESULTS.md).
 */
const HEAP_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=1024'];
const HERE = path.dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: { only: { type: 'string' }, out: { type: 'string', default: path.join(HERE, 'results', 'latest.json') } },
});
const only = new Set((values.only?.split(',') ?? PARTS).map((part) => part.trim()));
for (const part of only) {
  if ([...PARTS, ...OPT_IN].includes(part as Part)) continue;
  process.stderr.write(`bench: --only: unknown part "${part}"; parts: ${[...PARTS, ...OPT_IN].join(', ')}\n`);
  process.exit(2);
}
const wanted = (part: Part) => only.has(part);

interface Target {
  target: string;
  measured: string;
  met: boolean;
}
type ScenarioRun = ScenarioRunFigures & ChildFigures;

const targets: Target[] = [];
const results: Record<string, unknown> = { machine: machine(), startedAt: new Date().toISOString(), commit: commit() };
const out = (text: string) => process.stdout.write(`${text}\n`);
const progress = (text: string) => process.stderr.write(`bench: ${text}\n`);
const table = (head: string[]) => new Table({ head, style: { head: [], border: [] } });
const ms = (value: number) => `${Math.round(value)} ms`;
const mb = (value: number) => `${Math.round(value)} MB`;
const benchStarted = performance.now();
const startLoad = os.loadavg()[0]!;
if (startLoad > 1) progress(`the 1-minute load average is ${startLoad.toFixed(2)}: other work on this machine will skew the figures`);

if (wanted('handshake')) {
  progress('1/6 handshakes (initialize + tools/list, direct and through the shim)');
  const figures = await inChild<HandshakeFigures>('handshake', { count: 200, warmup: 20 }, 300_000);
  results.handshake = figures;
  const t = table(['1. handshake (strict server)', 'n', 'a. direct: median', 'p90', 'b. shim: median', 'p90', 'b/a']);
  for (const [name, pair] of [['warm (connections kept alive)', figures.warm], ['cold (new connections each)', figures.cold]] as const) {
    t.push([name, figures.count, `${pair.direct.medianMs} ms`, `${pair.direct.p90Ms} ms`, `${pair.shim.medianMs} ms`, `${pair.shim.p90Ms} ms`, `${pair.ratio}x`]);
  }
  out(t.toString());
  out('   initialize + tools/list, SDK client; a: straight to the loopback port, b: by Consul name through the worker\'s egress (proxiedFetch); the four paths take turns');
  const worst = Math.max(figures.warm.ratio, figures.cold.ratio);
  targets.push({ target: 'shim handshake <= 1.3x direct', measured: `${figures.warm.ratio}x warm, ${figures.cold.ratio}x cold`, met: worst <= 1.3 });
}

const runs: ScenarioRun[] = [];
const scenarioRun = async (args: ScenarioRunArgs, limitMs: number, nodeFlags: string[] = []) => {
  const figures = await inChild<ScenarioRunFigures>('scenarios', args, limitMs, nodeFlags);
  if (nodeFlags.length === 0) runs.push(figures);
  if (figures.passed !== figures.scenarios) progress(`  ${figures.scenarios - figures.passed} did not pass: ${figures.failed.join(', ')}`);
  return figures;
};

if (wanted('throughput')) {
  progress('2/6 scenario throughput (scenarios/incidents; the seed\'s incident with its bounds, the real defaults, in real time; all of scenarios/)');
  const SEED = 'incidents/2025-10-01-prometheus-mcp';
  // Claude Code's MCP_TIMEOUT and PyJWKClient's fetch timeout, and the same for the held drop.
  const DEFAULTS = { timeoutMs: 30_000, mcpTimeoutMs: 30_000, jwksTimeoutMs: 30_000 };
  const incidents = await scenarioRun({ kind: 'folder', folder: 'incidents' }, 120_000);
  const seed = await scenarioRun({ kind: 'folder', folder: SEED }, 120_000);
  const seedClaude = await scenarioRun({ kind: 'folder', folder: SEED, bounds: { timeoutMs: 30_000 } }, 120_000);
  const seedDefaults = await scenarioRun({ kind: 'folder', folder: SEED, bounds: DEFAULTS }, 120_000);
  const seedReal = await scenarioRun({ kind: 'folder', folder: SEED, time: 'real' }, 120_000);
  const all = await scenarioRun({ kind: 'folder', folder: '.' }, 300_000);
  results.throughput = { incidents, seed, seedClaude, seedDefaults, seedReal, all };
  const t = table(['2. scenarios in-process', 'scenarios', 'passed', 'wall', 'inherent wait: sum', 'longest', 'harness above it', 'per s', 'process', 'peak RSS', 'CPU']);
  const rows: [string, ScenarioRun, number][] = [
    ['scenarios/incidents, their bounds', incidents, 0],
    [`${SEED}, its bounds (timeout_ms 1500)`, seed, 0],
    ['  with --timeout-ms 30000 (MCP_TIMEOUT 30 s, JWKS the mock\'s 5 s)', seedClaude, 0],
    ['  and --jwks-timeout-ms 30000: every real default', seedDefaults, 0],
    ['  its bounds, --real-time', seedReal, seed.waited.longestMs],
    ['scenarios/ (all)', all, 0],
  ];
  for (const [name, run, waitedInRealTime] of rows) {
    // A real-time run has no virtual clock to say what it waited: the same set's virtual run does.
    const waited = run === seedReal ? seed.waited : run.waited;
    t.push([name, run.scenarios, `${run.passed}${run.skipped > 0 ? ` (${run.skipped} skipped)` : ''}`, ms(run.wallMs), ms(waited.sumMs), ms(waited.longestMs), ms(run.wallMs - waitedInRealTime), run.scenariosPerSecond, ms(run.processWallMs), mb(run.peakRssMb), ms(run.cpuMs)]);
  }
  out(t.toString());
  out('   wall = load + run inside the process; process = spawn to exit (Node start and imports too); CPU = all threads');
  out('   inherent wait: the bounds the scenarios must wait out in real time (their virtual clocks\' jumps); longest: one scenario\'s, the least a run in real time can take');
  out('   harness above it: wall minus what the run waited in real time (nothing on virtual clocks, the longest wait with --real-time)');
  targets.push({
    target: 'incident set < 3 s in-process',
    measured: `${(incidents.wallMs / 1000).toFixed(2)} s (process ${(incidents.processWallMs / 1000).toFixed(2)} s), ${incidents.passed}/${incidents.scenarios} passed`,
    met: incidents.wallMs < 3000 && incidents.passed === incidents.scenarios,
  });
  targets.push({
    target: "seed's incident set with the real default timeouts < 0.5 s",
    measured: `${(seedDefaults.wallMs / 1000).toFixed(2)} s for ${seedDefaults.scenarios} (${ms(seedDefaults.waited.sumMs)} of bounds jumped over), ${seedDefaults.passed}/${seedDefaults.scenarios} passed`,
    met: seedDefaults.wallMs < 500 && seedDefaults.passed === seedDefaults.scenarios,
  });
}

if (wanted('scaling')) {
  progress('3/6 scaling (1, 10, 100 MCP servers on one worker; 10, 100, 1000 generated scenarios)');
  const servers: [number, ScenarioRun][] = [];
  for (const count of [1, 10, 100]) servers.push([count, await scenarioRun({ kind: 'servers', servers: count, timeoutMs: 20_000 }, 120_000)]);
  const generated: [number, ScenarioRun][] = [];
  for (const count of [10, 100, 1000]) generated.push([count, await scenarioRun({ kind: 'generated', count }, 300_000)]);
  const capped = await scenarioRun({ kind: 'generated', count: 1000 }, 300_000, HEAP_FLAGS);
  results.scaling = { servers: Object.fromEntries(servers), generated: Object.fromEntries(generated), generated1000WithHeapFlags: { nodeFlags: HEAP_FLAGS, ...capped } };
  const t = table(['3. scaling', 'size', 'passed', 'load', 'run', 'wall', 'growth', 'per s', 'peak RSS', 'heap: young / old at peak', 'GCs: minor / major (pause)', 'CPU']);
  const heap = (run: ScenarioRun) => [`${mb(run.heap.youngPeakMb)} / ${mb(run.heap.oldPeakMb)}`, `${run.heap.minorGcs} / ${run.heap.majorGcs} (${ms(run.heap.gcPauseMs)})`];
  const rows = (label: string, list: [number, ScenarioRun][], unit: string) =>
    list.forEach(([size, run], index) => {
      const previous = list[index - 1]?.[1];
      const growth = previous ? `${round(run.wallMs / previous.wallMs, 2)}x` : '';
      t.push([index === 0 ? label : '', `${size} ${unit}`, `${run.passed}/${run.scenarios}`, ms(run.loadMs), ms(run.runMs), ms(run.wallMs), growth, run.scenariosPerSecond, mb(run.peakRssMb), ...heap(run), ms(run.cpuMs)]);
    });
  rows('MCP servers on one worker', servers, 'servers');
  rows('generated scenarios', generated, 'scenarios');
  t.push([HEAP_FLAGS.join(' '), '1000 scenarios', `${capped.passed}/${capped.scenarios}`, ms(capped.loadMs), ms(capped.runMs), ms(capped.wallMs), '', capped.scenariosPerSecond, mb(capped.peakRssMb), ...heap(capped), ms(capped.cpuMs)]);
  out(t.toString());
  out('   growth = wall / wall of the size before (10x the size each step); generated scenarios: members of the matrix family, half of them ending on a dropped flow');
  out(`   last row: the same 1000 with V8 heap limits (${HEAP_FLAGS.join(' ')}), not the default`);
  out('   heap: the largest V8 let the young generation and the old space grow (sampled every 50 ms); GCs: scavenges / mark-compacts and their pauses of the JavaScript thread');
  const thousand = generated[2]![1];
  const growth = thousand.wallMs / generated[1]![1].wallMs;
  targets.push({
    target: '1000 generated scenarios < 10 s',
    measured: `${(thousand.wallMs / 1000).toFixed(1)} s (${ms(thousand.waited.sumMs)} of bounds jumped over), ${thousand.passed}/${thousand.scenarios} passed`,
    met: thousand.wallMs < 10_000 && thousand.passed === thousand.scenarios,
  });
  targets.push({ target: 'near-linear growth 100 -> 1000 scenarios (<= 12x)', measured: `${round(growth, 2)}x`, met: growth <= 12 });
  const serverGrowth = servers[2]![1].wallMs / servers[1]![1].wallMs;
  targets.push({ target: 'near-linear growth 10 -> 100 servers (<= 12x)', measured: `${round(serverGrowth, 2)}x`, met: serverGrowth <= 12 });
  targets.push({
    target: `(with ${HEAP_FLAGS.join(' ')}) 1000 scenarios: peak RSS < 300 MB`,
    measured: `${mb(capped.peakRssMb)}, ${(capped.wallMs / 1000).toFixed(1)} s, ${capped.passed}/${capped.scenarios} passed`,
    met: capped.peakRssMb < 300 && capped.passed === capped.scenarios,
  });
}

if (runs.length > 0) {
  const peak = Math.max(...runs.map((run) => run.peakRssMb));
  const worst = runs.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
  const over = runs.filter((run) => run.peakRssMb >= 300).length;
  targets.push({
    target: 'peak RSS < 300 MB (every scenario run, Node defaults)',
    measured: `${mb(peak)} at worst (${worst.scenarios} scenarios); ${over} of ${runs.length} runs at or over`,
    met: peak < 300,
  });
}

if (wanted('blocked')) {
  progress('4/6 blocked flows (time to a failed verdict against the configured timeout)');
  const real = await inChild<{ rows: BlockedRow[] }>('blocked', { timeoutsMs: [500, 1500], repeats: 3 }, 120_000);
  const virtual = await inChild<{ rows: BlockedRow[] }>('blocked', { timeoutsMs: [1500, 30_000], repeats: 3, time: 'virtual' }, 120_000);
  const figures = { rows: [...real.rows, ...virtual.rows] };
  results.blocked = figures;
  const t = table(['4. blocked flow', 'clock', 'timeout_ms', 'expected wait', 'failed after (median of 3)', 'over it', 'wall', 'verdict', 'as expected']);
  for (const row of figures.rows) {
    t.push([row.flow, row.time, row.timeoutMs, ms(row.expectedMs), ms(row.failedAfterMs), ms(row.overMs), ms(row.wallMs), row.reason, row.ok ? 'yes' : 'NO']);
  }
  out(t.toString());
  out("   a dropped flow is held for the scenario's timeout_ms, twice: the worker's version probe, then initialize (as Claude Code 2.1.332);");
  out('   behind monitoring-mcp the JWKS wait is at most its own timeout (MCP_JWKS_TIMEOUT_MS, 5000); MCP_TIMEOUT (30000) ends either first;');
  out("   on a virtual clock exactly at the expected wait (failed after: the scenario's clock), in the wall time of the handshakes around it");
}

if (wanted('clients')) {
  progress('5/6 clients (each incident step under the simulated worker and under real Claude Code)');
  const scenarios = [
    'incidents/2025-10-01-prometheus-mcp/0-as-reported',
    'incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix',
    'incidents/2025-10-01-prometheus-mcp/4-option-3-no-header',
    'incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token',
    'incidents/2025-10-01-prometheus-mcp/6-jwks-blocked/token=valid',
    'incidents/2025-10-01-prometheus-mcp/7-tools-not-allowed',
  ];
  const figures = await inChild<{ rows: ClientsRow[] }>('clients', { scenarios, repeats: 3 }, 600_000);
  results.clients = figures;
  const version = figures.rows.find((row) => row.claudeCodeVersion)?.claudeCodeVersion ?? '?';
  const t = table(['6. client cost per scenario (median of 3)', 'simulated', `Claude Code ${version}`, 'ratio', 'same statuses']);
  for (const row of figures.rows) t.push([row.scenario, ms(row.simulatedMs), ms(row.claudeCodeMs), `${row.ratio}x`, row.agree ? 'yes' : 'NO']);
  out(t.toString());
  out('   one scenario end to end (topology up, worker, diagnosis, down); Claude Code: a fresh `claude -p` stopped at its init line; a dropped flow costs it twice the hold (its version probe, then the reconnect)');
  targets.push({ target: 'both clients give the same statuses', measured: `${figures.rows.filter((row) => row.agree).length}/${figures.rows.length} scenarios`, met: figures.rows.every((row) => row.agree) });
}

if (wanted('containers')) {
  progress('6/6 containers (seed topology up, one scenario end to end)');
  let figures: ContainersFigures | { failed: string };
  try {
    figures = await inChild<ContainersFigures>('containers', {}, 300_000);
  } catch (error) {
    figures = { failed: (error as Error).message.split('\n').slice(0, 6).join(' ') };
  }
  results.containers = figures;
  const t = table(['5. containers runtime', 'figure']);
  if ('skipped' in figures) t.push(['skipped', figures.skipped]);
  else if ('failed' in figures) t.push(['failed', figures.failed]);
  else {
    t.push(['seed topology: nothing to ready', ms(figures.readyMs)]);
    t.push(['seed topology: down', ms(figures.closeMs)]);
    t.push([`${figures.scenario}: up, worker, verdict`, `${ms(figures.scenarioUntilVerdictMs)} (${figures.scenarioOk ? 'passed' : 'FAILED'})`]);
    t.push([`${figures.scenario}: end to end, down included`, ms(figures.scenarioMs)]);
    targets.push({ target: 'containers topology ready < 10 s', measured: ms(figures.readyMs), met: figures.readyMs < 10_000 });
  }
  out(t.toString());
}

if (wanted('containers-run')) {
  const t = table(['7. scenarios in containers', 'wall', 'per scenario: median', 'p90', 'max', 'passed', 'failed', 'topologies started / reused', 'verdicts as in-process']);
  const runs: Record<string, ContainersRunFigures | { failed: string }> = {};
  const passes: { key: string; name: string; args: ContainersRunArgs }[] = [
    { key: 'reuse', name: 'all of scenarios/, reuse (default)', args: { reuse: true } },
    { key: 'noReuse', name: 'all of scenarios/, --no-reuse', args: { reuse: false } },
    { key: 'claudeCode', name: 'scenarios/incidents under Claude Code, reuse', args: { reuse: true, client: 'claude-code', folder: 'incidents' } },
  ];
  for (const { key, name, args } of passes) {
    progress(`7 containers-run: ${name}`);
    let figures: ContainersRunFigures | { failed: string };
    try {
      figures = await inChild<ContainersRunFigures>('containers-run', args, 1_800_000);
    } catch (error) {
      figures = { failed: (error as Error).message.split('\n').slice(0, 6).join(' ') };
    }
    runs[key] = figures;
    const reuse = key === 'reuse';
    if ('skipped' in figures && typeof figures.skipped === 'string') t.push([name, `skipped: ${figures.skipped}`, '', '', '', '', '', '', '']);
    else if ('failed' in figures && typeof figures.failed === 'string') t.push([name, `failed: ${figures.failed}`, '', '', '', '', '', '', '']);
    else {
      const f = figures as unknown as Exclude<ContainersRunFigures, { skipped: string }>;
      t.push([
        name,
        ms(f.wallMs),
        ms(f.perScenario.medianMs),
        ms(f.perScenario.p90Ms),
        ms(f.perScenario.maxMs),
        `${f.passed} (+${f.skipped} skipped)`,
        f.failed.length === 0 ? '0' : f.failed.join(', '),
        f.pool ? `${f.pool.started} / ${f.pool.reused} (${f.pool.restartedServices} services started afresh with another env)` : `${f.scenarios} / 0`,
        f.differFromInProcess.length === 0 ? 'all' : `differ: ${f.differFromInProcess.join(', ')}`,
      ]);
      if (reuse) targets.push({ target: 'all of scenarios/ in containers < 3 min, verdicts as in-process', measured: `${ms(f.wallMs)}, ${f.differFromInProcess.length} differ`, met: f.wallMs < 180_000 && f.differFromInProcess.length === 0 && f.failed.length === 0 });
    }
  }
  results.containersRun = runs;
  out(t.toString());
  out('   runScenarios with the containers runtime; per scenario: its own elapsedMs (up or reset, worker, diagnosis); verdicts compared with the simulated worker in-process');
}

const m = results.machine as ReturnType<typeof machine>;
const t = table(['target', 'measured', 'met']);
for (const target of targets) t.push([target.target, target.measured, target.met ? 'yes' : 'NO']);
out(t.toString());
const endLoad = os.loadavg().map((load) => round(load, 2));
out(`machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node}, ${m.platform}`);
out(`load average (1, 5, 15 min) at start ${m.loadAverage.join(', ')}, at end ${endLoad.join(', ')}; bench took ${round((performance.now() - benchStarted) / 1000, 1)} s`);
results.targets = targets;
results.endLoadAverage = endLoad;
await mkdir(path.dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
out(`results: ${path.relative(process.cwd(), values.out)}`);

function commit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: HERE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return undefined;
  }
}
