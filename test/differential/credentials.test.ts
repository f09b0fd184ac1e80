import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeCodeClient, LISTED_BLANKED_NAMES, simulatedClient, workerLaunch, type McpServerConfig } from '../../harness/client/index.ts';
import { startDirectWorld, type StartedDirectWorld } from './direct-world.ts';

// The variables Claude Code never expands toward a remote server (its own credentials and the
// machine's other secrets): every listed name, its families and look-alikes that do expand, each
// as `NAME=${NAME}` in one X-Probe header per server; both clients must send the same header.
// Claude Code missing is a failure, never a skip (the adapter throws).

const FAMILIES = [
  'OTEL_EXPORTER_OTLP_HEADERS', 'INPUT_OTEL_X', 'otel_lower', 'CLAUDE_CODE_OTEL_DIAG_STDERR', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_KEY_0',
  'INPUT_GIT_CONFIG_VALUE_2', 'CARGO_REGISTRIES_MY_REG_TOKEN', 'CARGO_REGISTRIES__TOKEN', 'BUNDLE_GEMS__EXAMPLE__COM', 'bundle_x__y',
  'CLAUDE_CODE_ARTIFACT_FOO_BASE_URL', 'anthropic_api_key', 'Npm_Token',
];
/** Names that look like secrets (or sit next to listed ones) and do expand. */
const LOOK_ALIKES = [
  'PROMETHEUS_TOKEN', 'MY_SECRET', 'DB_PASSWORD', 'GRAFANA_API_KEY', 'API_KEY', 'GITHUB_TOKEN', 'GH_TOKEN', 'GITLAB_TOKEN', 'AWS_ACCESS_KEY_ID',
  'HF_TOKEN', 'INPUT_HF_TOKEN', 'GH_ENTERPRISE_TOKEN', 'INPUT_CLAUDE_BG_RV_AUTH', 'BUNDLE_PATH', 'BUNDLE_WITH__X', 'GIT_CONFIG_KEY_X', 'OTEL',
  'AUTH0_CLIENT_SECRET', 'SLACK_BOT_TOKEN', 'USERNAME',
];
const NAMES = [...LISTED_BLANKED_NAMES, ...FAMILIES, ...LOOK_ALIKES];
/** Set for both clients, but not the ones that would steer Claude Code itself (its proxy, its own settings): blanked set or not. */
const ENV = Object.fromEntries(NAMES.filter((name) => !/PROXY|^(?:CLAUDE|ANTHROPIC)_/i.test(name)).map((name) => [name, `v-${name}`]));
const PER_SERVER = 40;
const groups = Array.from({ length: Math.ceil(NAMES.length / PER_SERVER) }, (_, index) => NAMES.slice(index * PER_SERVER, (index + 1) * PER_SERVER));
/** A `:-default` on a blanked name is ignored, set or not; on any other unset name it applies. */
const DEFAULTS = '${NPM_TOKEN:-d1}|${CONSUL_HTTP_TOKEN:-d2}|${UNSET_LOOKS_LIKE_TOKEN:-d3}';

describe("Claude Code's blanked variables toward a remote server", () => {
  let world: StartedDirectWorld;
  const sent = { simulated: new Map<string, string | undefined>(), claudeCode: new Map<string, string | undefined>() };
  const serverNames = [...groups.map((_, index) => `credentials-${index}`), 'defaults'];

  beforeAll(async () => {
    world = await startDirectWorld(Object.fromEntries(serverNames.map((name) => [name, { kind: 'mcp' as const }])), { dropHoldMs: 1_500 });
    const servers: McpServerConfig[] = serverNames.map((name, index) => ({
      name,
      type: 'http',
      url: world.url(name),
      headers: { 'X-Probe': name === 'defaults' ? DEFAULTS : groups[index]!.map((variable) => `${variable}=\${${variable}}`).join(';') },
    }));
    const { CONSUL_HTTP_TOKEN: _unset, ...env } = ENV;
    const launch = workerLaunch({ node: 'worker', servers, env: { ...env, MCP_TIMEOUT: '10000' }, egressProxyUrl: world.egressProxyUrl, timeoutMs: 10_000, settings: undefined });
    for (const [which, client] of [['simulated', simulatedClient], ['claudeCode', claudeCodeClient()]] as const) {
      world.resetPosts();
      const report = await client.run(launch);
      expect(report.servers.map((server) => server.status)).toEqual(serverNames.map(() => 'connected'));
      for (const name of serverNames) sent[which].set(name, world.posts(name)[0]?.probe);
    }
  }, 120_000);
  afterAll(() => world?.close());

  it.each(groups.map((group, index) => [`credentials-${index}`, group] as const))('%s: both clients send the same value for each name', (server, group) => {
    const split = (value: string | undefined) => Object.fromEntries((value ?? '').split(';').map((pair) => pair.split('=') as [string, string]));
    const simulated = split(sent.simulated.get(server));
    const claudeCode = split(sent.claudeCode.get(server));
    expect(Object.keys(claudeCode)).toEqual(group);
    expect(simulated).toEqual(claudeCode);
  });

  it('blanks every listed name and family, expands every look-alike', () => {
    const claudeCode = Object.fromEntries(
      [...sent.claudeCode.entries()].filter(([name]) => name !== 'defaults').flatMap(([, value]) => (value ?? '').split(';').map((pair) => pair.split('=') as [string, string])),
    );
    for (const name of [...LISTED_BLANKED_NAMES, ...FAMILIES]) expect(claudeCode[name], name).toBe('');
    for (const name of LOOK_ALIKES) expect(claudeCode[name], name).toBe(`v-${name}`);
  });

  it('ignores a default on a blanked name, set or unset, and applies it to any other unset name', () => {
    expect(sent.claudeCode.get('defaults')).toBe('||d3');
    expect(sent.simulated.get('defaults')).toBe('||d3');
  });
});
