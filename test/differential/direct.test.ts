import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeCodeClient, initMessage, simulatedClient, workerLaunch, type McpServerConfig, type WorkerReport } from '../../harness/client/index.ts';
import { differences, loadBaseline, unexplained, type Observed } from './compare.ts';
import { GOOD_TOKEN, startDirectWorld, type Behaviour, type StartedDirectWorld } from './direct-world.ts';

// Direct cases: small loopback servers, one behaviour each, behind the network shim; both
// clients connect to all of a group's servers at once through the same worker egress. A case
// compares status and tools, and for the expansion cases the header value the server received.

interface DirectCase {
  behaviour: Behaviour;
  headers?: Record<string, string>;
  /** Compare the X-Probe header the server got (the expansion cases). */
  probe?: boolean;
  /** Compare the JSON-RPC methods the server got, in order (the version probe and what follows it). */
  methods?: boolean;
}

const BAD = { Authorization: 'Bearer not-the-token' };
const OAUTH_DCR = { status: 401, resourceMetadataHeader: true, prm: 'auth-reg' } as const;
const OAUTH_CIMD = { status: 401, resourceMetadataHeader: true, prm: 'auth-cimd' } as const;
const OAUTH_NONE = { status: 401, resourceMetadataHeader: true, prm: 'auth-none' } as const;
const plain = { kind: 'mcp' } as const;

/** MCP_TIMEOUT far from every delay: nothing here depends on the machine's load. */
const FAST: Record<string, DirectCase> = {
  'connects': { behaviour: plain, methods: true },
  'probe-answered-by-a-reset': { behaviour: { kind: 'mcp', probe: 'reset' }, methods: true },
  'probe-never-answered': { behaviour: { kind: 'mcp', probe: 'silent' }, methods: true },
  'tools-list-fails-after-initialize': { behaviour: { kind: 'mcp', toolsListFails: true } },
  'refused': { behaviour: { kind: 'refused' } },
  'dropped-then-ended-by-the-shim': { behaviour: { kind: 'dropped' } },
  'slow-under-mcp-timeout': { behaviour: { kind: 'mcp', delayMs: 300 } },
  '401-with-header': { behaviour: { kind: 'mcp', auth: { status: 401 } }, headers: BAD, methods: true },
  '401-with-header-oauth-dcr': { behaviour: { kind: 'mcp', auth: OAUTH_DCR }, headers: BAD },
  '401-with-lowercase-header-oauth-dcr': { behaviour: { kind: 'mcp', auth: OAUTH_DCR }, headers: { authorization: 'Bearer not-the-token' } },
  '401-with-header-expanding-empty-oauth-dcr': { behaviour: { kind: 'mcp', auth: OAUTH_DCR }, headers: { Authorization: '${EMPTY}' } },
  '403-with-header': { behaviour: { kind: 'mcp', auth: { status: 403 } }, headers: BAD },
  '403-with-header-oauth-dcr': { behaviour: { kind: 'mcp', auth: { ...OAUTH_DCR, status: 403 } }, headers: BAD },
  '401-no-header-no-metadata': { behaviour: { kind: 'mcp', auth: { status: 401 } }, methods: true },
  '401-no-header-oauth-dcr': { behaviour: { kind: 'mcp', auth: OAUTH_DCR }, methods: true },
  '401-no-header-oauth-client-id-metadata-documents': { behaviour: { kind: 'mcp', auth: OAUTH_CIMD } },
  '401-no-header-oauth-no-registration': { behaviour: { kind: 'mcp', auth: OAUTH_NONE }, methods: true },
  '401-no-header-well-known-metadata-only-dcr': { behaviour: { kind: 'mcp', auth: { status: 401, prm: 'auth-reg' } } },
  '401-no-header-resource-metadata-header-only': { behaviour: { kind: 'mcp', auth: { status: 401, resourceMetadataHeader: true } }, methods: true },
  '403-no-header-oauth-dcr': { behaviour: { kind: 'mcp', auth: { ...OAUTH_DCR, status: 403 } } },
  '403-no-header-no-metadata': { behaviour: { kind: 'mcp', auth: { status: 403 } }, methods: true },
  'good-token-from-default': { behaviour: { kind: 'mcp', auth: { status: 401 } }, headers: { Authorization: `Bearer \${UNSET_TOKEN:-${GOOD_TOKEN}}` } },
  'expand-default-when-unset': { behaviour: plain, headers: { 'X-Probe': '${UNSET:-fallback}' }, probe: true },
  'expand-default-when-empty': { behaviour: plain, headers: { 'X-Probe': '[${EMPTY:-fallback}]' }, probe: true },
  'expand-default-with-second-separator': { behaviour: plain, headers: { 'X-Probe': '${UNSET:-a:-b}' }, probe: true },
  'expand-unset-without-default': { behaviour: plain, headers: { 'X-Probe': 'x-${UNSET}-y' }, probe: true },
  'expand-no-braces': { behaviour: plain, headers: { 'X-Probe': '$SET-${SET}' }, probe: true },
  'expand-nested-default': { behaviour: plain, headers: { 'X-Probe': '${UNSET:-${SET}}' }, probe: true },
  'expand-default-with-brace-and-space': { behaviour: plain, headers: { 'X-Probe': '${UNSET:- spaced value }' }, probe: true },
  'expand-shell-forms': { behaviour: plain, headers: { 'X-Probe': '${UNSET-dash}|${SET:+alt}|${UNSET:=assign}' }, probe: true },
  'expand-value-that-is-a-reference': { behaviour: plain, headers: { 'X-Probe': '${REF}' }, probe: true },
  'expand-two-levels-deep': { behaviour: plain, headers: { 'X-Probe': '${UNSET:-${REF}}' }, probe: true },
  'expand-nested-default-of-default': { behaviour: plain, headers: { 'X-Probe': '${UNSET:-${UNSET2:-deep}}' }, probe: true },
  'expand-first-brace-closes': { behaviour: plain, headers: { 'X-Probe': '${SET:-${UNSET}}|${UNSET:-${SET}-tail}' }, probe: true },
  'expand-empty-name': { behaviour: plain, headers: { 'X-Probe': '${:-d}|${ SET }' }, probe: true },
};
/**
 * A 2025-11-25 server answering every POST after 2.5 s, MCP_TIMEOUT 9000: the probe is answered
 * within its timeout (3000 ms; an answer later than that times it out, and the reconnect's
 * handshake ends by 8 s, tools/list not before 10.5 s: pending too), initialize and
 * notifications/initialized on the same attempt end by 7.5 s (its timeout 9 s: 1.5 s of slack),
 * and the four requests cannot end before 10 s: still listing tools at the init line, however
 * idle the machine.
 */
const PENDING: Record<string, DirectCase> = {
  'each-request-in-time-all-over-mcp-timeout': { behaviour: { kind: 'mcp', delayMs: 2_500 }, methods: true },
};
/** Servers that never answer in time: what each client says when MCP_TIMEOUT passes. */
const TIMEOUTS: Record<string, DirectCase> = {
  'accepted-but-silent': { behaviour: { kind: 'silent' } },
  'slow-over-mcp-timeout': { behaviour: { kind: 'mcp', delayMs: 20_000 } },
};

const ENV = { EMPTY: '', SET: 'set-value', REF: '${SET}' };
const baseline = loadBaseline();

interface GroupRun {
  simulated: WorkerReport;
  claudeCode: WorkerReport;
  probes: Record<string, { simulated: string | undefined; claudeCode: string | undefined }>;
  methods: Record<string, { simulated: string[]; claudeCode: string[] }>;
}

async function runGroup(world: StartedDirectWorld, cases: Record<string, DirectCase>, mcpTimeoutMs: number): Promise<GroupRun> {
  const servers: McpServerConfig[] = Object.entries(cases).map(([name, entry]) => ({ name, type: 'http', url: world.url(name), headers: entry.headers ?? {} }));
  const launch = workerLaunch({
    node: 'worker',
    servers,
    env: { ...ENV, MCP_TIMEOUT: String(mcpTimeoutMs) },
    egressProxyUrl: world.egressProxyUrl,
    // The simulated worker's per-server deadline stands for Claude Code's MCP_TIMEOUT.
    timeoutMs: mcpTimeoutMs,
    settings: undefined,
  });
  const firstProbe = () => Object.fromEntries(Object.keys(cases).map((name) => [name, world.posts(name)[0]?.probe]));
  const methodsOf = () => Object.fromEntries(Object.keys(cases).map((name) => [name, world.posts(name).map((post) => post.method)]));
  const simulated = await simulatedClient.run(launch);
  const simulatedProbes = firstProbe();
  const simulatedMethods = methodsOf();
  world.resetPosts();
  const claudeCode = await claudeCodeClient().run(launch);
  const claudeProbes = firstProbe();
  const claudeMethods = methodsOf();
  return {
    simulated,
    claudeCode,
    probes: Object.fromEntries(Object.keys(cases).map((name) => [name, { simulated: simulatedProbes[name], claudeCode: claudeProbes[name] }])),
    methods: Object.fromEntries(Object.keys(cases).map((name) => [name, { simulated: simulatedMethods[name]!, claudeCode: claudeMethods[name]! }])),
  };
}

function observedOf(run: GroupRun, which: 'simulated' | 'claudeCode', name: string, probe: boolean): Observed {
  const report = run[which];
  const server = report.servers.find((entry) => entry.name === name)!;
  const tools = initMessage(report).tools.filter((tool) => tool.startsWith(`mcp__${name}__`));
  return { status: server.status, tools, ...(probe ? { sent: run.probes[name]![which] ?? null } : {}) } as Observed;
}

function checkCase(run: () => GroupRun, name: string, entry: DirectCase): void {
  const id = `direct/${name}`;
  const current = run();
  const found = differences(
    id,
    { [name]: observedOf(current, 'simulated', name, entry.probe === true) },
    { [name]: observedOf(current, 'claudeCode', name, entry.probe === true) },
  );
  expect(unexplained(id, found, baseline)).toEqual({ unexplained: [], stale: [] });
  if (entry.methods) expect(current.methods[name]!.simulated, 'the requests the server got, in order').toEqual(current.methods[name]!.claudeCode);
}

describe.each([
  ['MCP_TIMEOUT far beyond every delay', FAST, 10_000, 'connects'],
  ['each request within its own timeout, all of them over MCP_TIMEOUT', PENDING, 9_000, 'each-request-in-time-all-over-mcp-timeout'],
  ['servers that never answer within MCP_TIMEOUT', TIMEOUTS, 3_000, 'slow-over-mcp-timeout'],
] as const)('direct cases: %s', (_title, cases, mcpTimeoutMs, probed) => {
  let world: StartedDirectWorld;
  let run: GroupRun;
  beforeAll(async () => {
    world = await startDirectWorld(Object.fromEntries(Object.entries(cases).map(([name, entry]) => [name, entry.behaviour])), { dropHoldMs: 1_500 });
    run = await runGroup(world, cases, mcpTimeoutMs);
  }, 120_000);
  afterAll(() => world?.close());

  it('ran Claude Code', () => {
    expect(run.claudeCode.client?.name).toBe('claude-code');
    expect(run.claudeCode.servers.map((server) => server.name)).toEqual(Object.keys(cases));
  });

  it(`sees Claude Code's version probe (server/discover, MCP 2026-07-28) first, at ${probed}`, () => {
    // The group's last run was Claude Code's (the simulated worker's requests were forgotten before it).
    const posts = world.posts(probed);
    expect(posts[0]).toMatchObject({ method: 'server/discover', protocolVersion: '2026-07-28' });
    expect(run.methods[probed]!.simulated[0], "the simulated worker's probe").toBe('server/discover');
  });

  it.each(Object.entries(cases))('%s', (name, entry) => checkCase(() => run, name, entry));
});

describe('the baseline', () => {
  it('names only cases that exist, each with its reason', () => {
    const known = new Set([...Object.keys(FAST), ...Object.keys(PENDING), ...Object.keys(TIMEOUTS)].map((name) => `direct/${name}`));
    const direct = baseline.entries.filter((entry) => entry.case.startsWith('direct/'));
    expect(direct.filter((entry) => !known.has(entry.case)).map((entry) => entry.case)).toEqual([]);
  });
});
