#!/usr/bin/env -S node --max-semi-space-size=8 --max-old-space-size=1024
// The `harness` command: run, list and explain scenarios; check a worker config; ask the firewall.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { auditTopology, failsAt, formatAuditText, SEVERITIES, toAuditJson, toAuditJUnit, toAuditSarif, type AuditReport, type Severity } from './audit/index.ts';
import { ClientNameSchema, type ClientName } from './client/index.ts';
import { isHarnessError } from '../common/index.ts';
import { runFirewallCheck } from './network/index.ts';
import { formatExplanation, formatScenarioTable, toJUnitXml, toJsonReport, toMermaid } from './report/index.ts';
import { runScenario, runScenarios, summarize, withBounds, type BoundOverrides, type ScenarioResult } from './runner/index.ts';
import { containersConcurrency, containersRuntime, inProcessRuntime, reusingContainersRuntime, type Runtime } from './runtime/index.ts';
import { loadScenarioFile, requiredRuntime, resolveScenarioArgs, scenarioId, type RequiredRuntime, type Scenario } from './topology/index.ts';
import { checkUserFiles, formatNewIncident, formatProvenance, newIncident, type UserFlags } from './incident/index.ts';
import { upCommand } from './up/index.ts';

/** Exit codes: 0 all as expected, 1 an expectation unmet (audit: a finding at --fail-on or above), 2 bad input (or nothing to check). */
const EXIT_UNMET = 1;
const EXIT_USAGE = 2;

/**
 * A commander parser for a flag that takes a whole number from `min` to `max`: `--concurrency abc`
 * is a usage error (exit 2), not a NaN that quietly lifts the limit.
 */
function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!(number >= min && number <= max)) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected a whole number, at least ${min}` : `expected a whole number from ${min} to ${max}`);
    }
    return number;
  };
}

/** Exit code of scenarios that ran: 0 when something ran and every expectation was met. */
function exitCodeOf(results: ScenarioResult[]): number {
  const summary = summarize(results);
  if (summary.ok) return 0;
  if (summary.passed + summary.failed > 0) return EXIT_UNMET;
  // Nothing ran: every scenario was skipped by this runtime. Not a success, and no expectation was unmet either.
  const first = results.find((result) => result.skipped);
  process.stderr.write(
    `harness: nothing was checked: ${results.length === 1 ? 'the one scenario was' : `all ${results.length} scenarios were`} skipped${first ? ` (${first.scenario}: ${first.skipped})` : ''}\n`,
  );
  return EXIT_USAGE;
}

const packageRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function defaultRoot(): string {
  return existsSync('scenarios') ? 'scenarios' : path.join(packageRoot, 'scenarios');
}

const RUNTIMES: Record<string, Runtime> = { inprocess: inProcessRuntime, containers: containersRuntime };

async function runtimeNamed(name: string): Promise<Runtime> {
  return RUNTIMES[name]!;
}

interface ClientFlags {
  client?: ClientName;
  claudeBin?: string;
}

/** --client and --claude-bin as run options (unset: each scenario's `client:`, else simulated). */
function clientOptions(options: ClientFlags): { client?: ClientName; claudeBin?: string } {
  return { ...(options.client ? { client: options.client } : {}), ...(options.claudeBin ? { claudeBin: options.claudeBin } : {}) };
}

function progress(enabled: boolean) {
  return (result: ScenarioResult, done: number, total: number) => {
    if (enabled) process.stderr.write(`\r\u001b[2K[${done}/${total}] ${result.ok ? 'pass' : 'FAIL'} ${result.scenario}`);
  };
}

async function run(
  targets: string[],
  options: ClientFlags & BoundFlags & { json?: boolean; junit?: string; root: string; runtime: string; concurrency?: number; realTime?: boolean; reuse: boolean },
) {
  const scenarios = (await resolveScenarioArgs(targets, { root: options.root })).map((scenario) => withBounds(scenario, boundsOf(options)));
  if (scenarios.length === 0) {
    process.stderr.write(`harness: no scenario files in ${targets.length > 0 ? targets.join(', ') : options.root}\n`);
    return EXIT_USAGE;
  }
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  // Containers are reused across the run's scenarios unless --no-reuse; everything goes when the run ends.
  await using reusing = options.runtime === 'containers' && options.reuse ? reusingContainersRuntime({ ...(options.concurrency === undefined ? {} : { capacity: Math.min(options.concurrency, containersConcurrency()) }) }) : undefined;
  const results = await runScenarios(scenarios, {
    runtime: reusing ?? (await runtimeNamed(options.runtime)),
    ...clientOptions(options),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.realTime ? { time: 'real' as const } : {}),
    onResult: progress(tty),
  });
  if (tty) process.stderr.write('\r\u001b[2K');
  if (options.junit) {
    await mkdir(path.dirname(path.resolve(options.junit)), { recursive: true });
    await writeFile(options.junit, toJUnitXml(results));
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(toJsonReport(results), null, 2)}\n`);
  } else {
    const color = Boolean(process.stdout.isTTY);
    for (const result of results) process.stdout.write(`${formatScenarioTable(result, { color })}\n`);
    const { passed, failed, skipped } = summarize(results);
    process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
  return exitCodeOf(results);
}

/** One line of `harness list`: a scenario (or with --files a scenario file) and the runtime it needs. */
interface ListEntry {
  id: string;
  /** Relative to the working directory. */
  file: string;
  runtime: RequiredRuntime;
}

async function list(options: { json?: boolean; files?: boolean; root: string }) {
  const scenarios = await resolveScenarioArgs([], { root: options.root });
  // --files: one id per file, a matrix family as one (its id runs all its members); it needs
  // containers when any of its members does.
  const entries = new Map<string, ListEntry>();
  for (const scenario of scenarios) {
    const id = options.files ? scenarioId(scenario.file, options.root) : scenario.id;
    const runtime = requiredRuntime(scenario.topology);
    const entry = entries.get(id);
    if (entry) entry.runtime = entry.runtime === 'containers' ? entry.runtime : runtime;
    else entries.set(id, { id, file: path.relative(process.cwd(), scenario.file), runtime });
  }
  const rows = [...entries.values()];
  process.stdout.write(options.json ? `${JSON.stringify(rows)}\n` : `${rows.map((row) => `${row.id}\t${row.runtime}`).join('\n')}\n`);
  return 0;
}

async function explain(target: string, options: ClientFlags & BoundFlags & { root: string; runtime: string }) {
  const scenarios = (await resolveScenarioArgs([target], { root: options.root })).map((scenario) => withBounds(scenario, boundsOf(options)));
  const runtime = await runtimeNamed(options.runtime);
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const result = await runScenario(scenario, { runtime, ...clientOptions(options) });
    results.push(result);
    process.stdout.write(result.skipped ? `${scenario.id}: skipped: ${result.skipped}\n` : `${formatExplanation(scenario, result)}\n`);
  }
  return exitCodeOf(results);
}

async function diagram(target: string, options: ClientFlags & { root: string; runtime: string }) {
  const scenarios = await resolveScenarioArgs([target], { root: options.root });
  const runtime = await runtimeNamed(options.runtime);
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const result = await runScenario(scenario, { runtime, ...clientOptions(options) });
    results.push(result);
    process.stdout.write(scenarios.length > 1 ? `%% ${scenario.id}\n${toMermaid(scenario, result)}\n` : toMermaid(scenario, result));
  }
  // The same exit codes as `run`: the picture is drawn either way.
  return exitCodeOf(results);
}

async function check(configFile: string, options: ClientFlags & UserFlagOptions & { topology: string; json?: boolean; runtime: string }) {
  const { scenario, result, provenance } = await checkUserFiles(options.topology, { ...userFlags(options), config: configFile }, {
    runtime: await runtimeNamed(options.runtime),
    ...clientOptions(options),
  });
  if (options.json) process.stdout.write(`${JSON.stringify({ ...toJsonReport([result]), inputs: provenance }, null, 2)}\n`);
  else process.stdout.write(`${formatProvenance(provenance)}\n${formatExplanation(scenario, result)}`);
  return result.ok ? 0 : EXIT_UNMET;
}

async function audit(target: string, options: { json?: boolean; junit?: string; sarif?: string; failOn: Severity; root: string; runtime: string }) {
  const scenarios = existsSync(target) && !target.endsWith('/') && path.extname(target) === '.yaml'
    ? await loadScenarioFile(target)
    : await resolveScenarioArgs([target], { root: options.root });
  const reports: AuditReport[] = [];
  for (const scenario of scenarios) {
    reports.push(await auditTopology(scenario.topology, { runtime: await runtimeNamed(options.runtime), source: path.relative(process.cwd(), scenario.file) || scenario.file }));
  }
  const write = async (file: string, text: string) => {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, text);
  };
  if (options.junit) await write(options.junit, toAuditJUnit(reports));
  if (options.sarif) {
    const logs = await Promise.all(reports.map(async (report, at) => {
      const scenario = scenarios[at]!;
      const nodeOf = (name: string) => report.servers.find((server) => server.name === name)?.node ?? name;
      return toAuditSarif(report, { sourceText: await readFile(scenario.file, 'utf8'), nodeOf });
    }));
    // One SARIF log: every audited topology is one run.
    await write(options.sarif, `${JSON.stringify({ ...logs[0]!, runs: logs.flatMap((log) => log.runs) }, null, 2)}\n`);
  }
  const failOn = options.failOn;
  if (options.json) {
    const documents = reports.map((report) => toAuditJson(report, { failOn }));
    process.stdout.write(`${JSON.stringify(documents.length === 1 ? documents[0] : documents, null, 2)}\n`);
  } else {
    for (const report of reports) process.stdout.write(formatAuditText(report, { failOn }));
  }
  return reports.some((report) => failsAt(report, failOn)) ? EXIT_UNMET : 0;
}

async function newIncidentCommand(slug: string, options: ClientFlags & UserFlagOptions & { topology: string; reported: string; date?: string; force?: boolean; root: string; runtime: string; json?: boolean }) {
  const made = await newIncident({
    slug,
    date: options.date ?? new Date().toISOString().slice(0, 10),
    root: options.root,
    topology: options.topology,
    flags: userFlags(options),
    reported: options.reported,
    ...(options.force ? { force: true } : {}),
    runtime: await runtimeNamed(options.runtime),
    ...clientOptions(options),
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ file: made.file, reproduces: made.reproduces, differences: made.differences, inputs: made.provenance, report: toJsonReport([made.result]) }, null, 2)}\n`);
  } else {
    process.stdout.write(formatNewIncident(made));
  }
  return made.reproduces ? 0 : EXIT_UNMET;
}

/** The user's own material as flags: shared by check, up and new incident. */
interface UserFlagOptions {
  config?: string;
  settings?: string;
  nebula: string[];
  groups: string[];
  token: string[];
  env: string[];
}

function userFlags(options: UserFlagOptions): UserFlags {
  return {
    ...(options.config ? { config: options.config } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    nebula: options.nebula,
    groups: options.groups,
    token: options.token,
    env: options.env,
  };
}

/** What `withBoundFlags` parses; commander names `--mcp-timeout` mcpTimeout. */
interface BoundFlags {
  timeoutMs?: number;
  mcpTimeout?: number;
  jwksTimeoutMs?: number;
}

/** `--timeout-ms`, `--mcp-timeout`, `--jwks-timeout-ms`: bounds over every scenario's (withBounds). */
function withBoundFlags(command: Command): Command {
  return command
    .option('--timeout-ms <ms>', "every scenario's timeout_ms: how long a dropped flow is held", wholeNumber(1))
    .option('--mcp-timeout <ms>', "the worker's MCP_TIMEOUT (Claude Code's default: 30000)", wholeNumber(1))
    .option('--jwks-timeout-ms <ms>', "monitoring-mcp's MCP_JWKS_TIMEOUT_MS (PyJWKClient's default: 30000)", wholeNumber(1));
}

function boundsOf(flags: BoundFlags): BoundOverrides {
  return {
    ...(flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs }),
    ...(flags.mcpTimeout === undefined ? {} : { mcpTimeoutMs: flags.mcpTimeout }),
    ...(flags.jwksTimeoutMs === undefined ? {} : { jwksTimeoutMs: flags.jwksTimeoutMs }),
  };
}

function withUserFlags(command: Command, options: { config: boolean }): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  if (options.config) command.option('--config <file>', "the worker's agent_config.yaml or .mcp.json");
  return command
    .option('--settings <file>', "the worker's settings.json")
    .option('--nebula <NODE=config.yml>', "a node's Nebula config (its firewall: section, or nebula.firewall: of a deploy file), used verbatim; repeatable", collect, [])
    .option('--groups <NODE=a,b,c|NODE=@file>', "a node's certificate groups: a list, a pod YAML with the slack.com/nebula.groups annotation, or nebula-cert print -json output; repeatable", collect, [])
    .option('--token <VAR=kind>', 'a token the auth server mints into the worker env var VAR (valid, expired, ...); repeatable', collect, [])
    .option('--env <NAME=VALUE>', "the worker's environment; repeatable", collect, []);
}

async function up(target: string, command: string[], options: UserFlagOptions & { root: string; runtime: string; json?: boolean; events?: boolean; exec?: boolean; execImage?: string }) {
  if (!options.exec && command.length > 0) {
    throw new CommanderError(EXIT_USAGE, 'harness.usage', `unexpected arguments after ${target}: ${command.join(' ')} (to run a command as the worker: --exec -- CMD ARGS...)`);
  }
  const stop = new AbortController();
  const abort = () => stop.abort();
  const runtime = await runtimeNamed(options.runtime);
  // The containers runtime removes its containers and networks on SIGINT/SIGTERM itself, then exits.
  const signals = runtime === containersRuntime ? [] : (['SIGINT', 'SIGTERM'] as const);
  for (const signal of signals) process.once(signal, abort);
  try {
    return await upCommand(target, {
      root: options.root,
      runtime,
      ...(options.json ? { json: true } : {}),
      ...(options.events ? { events: true } : {}),
      ...(options.exec ? { exec: command } : {}),
      ...(options.execImage ? { execImage: options.execImage } : {}),
      userFlags: userFlags(options),
      signal: stop.signal,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
  } finally {
    for (const signal of signals) process.off(signal, abort);
  }
}

function program(): Command {
  const cli = new Command('harness')
    .description('Bring up the topology behind an MCP connectivity incident and tell which MCP servers connect, and why.')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const root = () => new Option('--root <dir>', 'scenarios folder for ids and listing').default(defaultRoot(), 'scenarios/');
  const runtime = () => new Option('--runtime <name>', 'how nodes run').choices(Object.keys(RUNTIMES)).default('inprocess');
  const client = () => new Option('--client <name>', "who plays the worker (default: the scenario's client:, else simulated)").choices(ClientNameSchema.options);
  const claudeBin = () => new Option('--claude-bin <path>', 'the Claude Code binary for --client claude-code').env('HARNESS_CLAUDE_BIN');
  withBoundFlags(
    cli
      .command('run')
      .description('run scenarios (files, folders, ids or id prefixes; default: all) and compare with their expectations')
      .argument('[targets...]')
      .option('--json', 'print one JSON document, nothing else')
      .option('--junit <file>', 'also write a JUnit XML report')
      .option('--concurrency <n>', 'most scenarios at once (a whole number, at least 1)', wholeNumber(1)),
  )
    .option('--real-time', 'in-process too, wait out every bound in real time instead of on a virtual clock')
    .option('--no-reuse', 'containers: start every scenario on its own containers instead of reusing those of an earlier scenario')
    .addOption(root())
    .addOption(runtime())
    .addOption(client())
    .addOption(claudeBin())
    .action(async (targets: string[], options) => {
      process.exitCode = await run(targets, options);
    });
  cli
    .command('list')
    .description('list scenario ids and the runtime each needs (for CI matrices)')
    .option('--json', 'as a JSON array of {id, file, runtime}')
    .option('--files', 'one id per scenario file (a matrix family once)')
    .addOption(root())
    .action(async (options) => {
      process.exitCode = await list(options);
    });
  withBoundFlags(
    cli
      .command('explain')
      .description("run a scenario and explain each failure: the hop, the rule or claim, and what would make it pass")
      .argument('<scenario>', 'file or id'),
  )
    .addOption(root())
    .addOption(runtime())
    .addOption(client())
    .addOption(claudeBin())
    .action(async (target: string, options) => {
      process.exitCode = await explain(target, options);
    });
  cli
    .command('diagram')
    .description('run a scenario and print a Mermaid flowchart of its nodes, flows and verdicts')
    .argument('<scenario>', 'file or id')
    .addOption(root())
    .addOption(runtime())
    .addOption(client())
    .addOption(claudeBin())
    .action(async (target: string, options) => {
      process.exitCode = await diagram(target, options);
    });
  withUserFlags(
    cli
      .command('check')
      .description("check your own agent_config.yaml (or .mcp.json), and any of your Nebula configs, groups and tokens, against a base topology, without writing a scenario")
      .argument('<config>', "the worker's MCP config")
      .requiredOption('--topology <file>', 'base topology, e.g. scenarios/topologies/monitoring-dev.yaml'),
    { config: false },
  )
    .option('--json', 'print JSON')
    .addOption(runtime())
    .addOption(client())
    .addOption(claudeBin())
    .action(async (config: string, options) => {
      process.exitCode = await check(config, options);
    });
  cli
    .command('audit')
    .description("bring a topology up and probe each MCP server its worker lists, as the worker: token battery, discovery, Origin, network rules")
    .argument('<target>', 'a scenario or topology file, or a scenario id')
    .option('--json', 'print one JSON document, nothing else')
    .option('--junit <file>', 'also write JUnit XML (one testcase per check)')
    .option('--sarif <file>', 'also write SARIF 2.1.0 (one result per finding)')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at this severity or above').choices([...SEVERITIES]).default('high'))
    .addOption(root())
    .action(async (target: string, options) => {
      // In-process only for now: it is the runtime that gives the audit a way in (StartedTopology.probe).
      process.exitCode = await audit(target, { ...options, runtime: 'inprocess' });
    });
  withUserFlags(
    cli
      .command('new')
      .description('write a new scenario from your own material')
      .command('incident')
      .description("write scenarios/incidents/<date>-<slug>/0-as-reported.yaml from your files and the reported mcp_servers line, run it, and say whether it reproduces the report")
      .argument('<slug>', 'e.g. prometheus-mcp')
      .requiredOption('--topology <file>', 'base topology your files patch, e.g. scenarios/topologies/monitoring-dev.yaml')
      .requiredOption('--reported <line>', "the worker's mcp_servers log line, Python-repr or JSON, or @file holding it"),
    { config: true },
  )
    .option('--date <YYYY-MM-DD>', "the incident's date (default: today, UTC)")
    .option('--force', 'overwrite a step 0 that exists')
    .option('--json', 'print JSON')
    .addOption(root())
    .addOption(runtime())
    .addOption(client())
    .addOption(claudeBin())
    .action(async (slug: string, options) => {
      process.exitCode = await newIncidentCommand(slug, options);
    });
  withUserFlags(
    cli
      .command('up')
      .description('bring a scenario or topology up and keep it up until Ctrl-C, for any client; or run one command as the worker (--exec -- CMD ARGS...)')
      .argument('<target>', 'scenario or topology: file or id')
      .argument('[command...]', 'with --exec: the command and its arguments, after --'),
    { config: true },
  )
    .option('--exec', 'run the command after -- as the worker node, print the network\'s decisions for its flows, exit with its status')
    .option('--exec-image <image>', 'with --exec --runtime containers: the image the command runs from (default the harness image, which has node; mcp-topology-harness/claude-code:local has claude)')
    .option('--json', 'print one JSON document on one line (then, with --events and on each applied edit, one JSON line each)')
    .option('--events', "stream each network decision and each service's log line as it happens")
    .addOption(root())
    .addOption(runtime())
    .action(async (target: string, command: string[], options) => {
      process.exitCode = await up(target, command, options);
    });
  const firewall = cli.command('firewall').description("ask the Nebula stand-in about a flow");
  firewall
    .command('check')
    .description('verdict for a flow between two nodes of a topology file, with both sides\' reasons')
    .argument('<file>')
    .requiredOption('--from <node>')
    .requiredOption('--to <node>')
    .requiredOption('--port <n>', 'destination port (0-65535)', wholeNumber(0, 65535))
    .option('--proto <proto>', 'tcp, udp or icmp', 'tcp')
    .option('--json', 'print JSON')
    .action(async (file: string, options) => {
      // The same loader as every scenario: extends, patch and errors with file, line and field.
      const [scenario] = (await loadScenarioFile(file)) as [Scenario];
      const nodes = scenario.topology.nodes.map(({ identity, firewall }) => ({ identity, firewall }));
      const outcome = await runFirewallCheck({ nodes, source: file, ...options });
      process.stdout.write(outcome.stdout);
      process.stderr.write(outcome.stderr);
      process.exitCode = outcome.exitCode;
    });
  return cli;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.code !== 'commander.helpDisplayed' && error.code !== 'commander.version' && error.code !== 'harness.env' && error.code !== 'harness.usage') {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
    } else {
      if (error.code === 'harness.env' || error.code === 'harness.usage') process.stderr.write(`harness: ${error.message}\n`);
      process.exitCode = error.exitCode;
    }
  } else if (isHarnessError(error)) {
    process.stderr.write(`harness: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else {
    throw error;
  }
}
