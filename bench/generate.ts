import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const SCENARIOS_DIR = path.join(REPO, 'scenarios');
const BASE_TOPOLOGY = path.join(SCENARIOS_DIR, 'topologies', 'monitoring-dev.yaml');
const MATRIX_FAMILY = path.join(SCENARIOS_DIR, 'matrix', 'tokens-x-firewall-x-variant.yaml');
const DC = 'dev-us-east-1';

interface MatrixFamily {
  description?: string;
  timeout_ms?: number;
  matrix: {
    axes: {
      token: { values: string[]; patch: unknown };
      firewall: Record<string, unknown>;
      variant: Record<string, unknown>;
    };
    expect: unknown[];
  };
}

/**
 * Writes `count` scenario files to `dir`, each one member of the repository's own matrix family
 * (scenarios/matrix/tokens-x-firewall-x-variant.yaml) narrowed to a single combination, with the
 * family's expectation rules, extending the seed topology. The firewall axis alternates, so at every
 * size half of the scenarios end on a dropped flow (a wait of the family's timeout), as in the family.
 * Returns the number of distinct combinations used.
 *
 * @example
 * await writeGeneratedScenarios('/tmp/gen', 100); // gen-00000.yaml ... gen-00099.yaml
 */
export async function writeGeneratedScenarios(dir: string, count: number): Promise<number> {
  const family = parse(await readFile(MATRIX_FAMILY, 'utf8')) as MatrixFamily;
  const { token, firewall, variant } = family.matrix.axes;
  const firewalls = Object.keys(firewall);
  const variants = Object.keys(variant);
  const seen = new Set<string>();
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const f = firewalls[i % firewalls.length]!;
    const v = variants[Math.floor(i / firewalls.length) % variants.length]!;
    const t = token.values[Math.floor(i / (firewalls.length * variants.length)) % token.values.length]!;
    seen.add(`${t}/${f}/${v}`);
    const doc = {
      description: `generated scenario ${i}: token ${t}, firewall ${f}, variant ${v}`,
      extends: BASE_TOPOLOGY,
      ...(family.timeout_ms === undefined ? {} : { timeout_ms: family.timeout_ms }),
      matrix: {
        axes: {
          token: { values: [t], patch: token.patch },
          firewall: { [f]: firewall[f] },
          variant: { [v]: variant[v] },
        },
        expect: narrowRules(family.matrix.expect, { token: t, firewall: f, variant: v }),
      },
    };
    await writeFile(path.join(dir, `gen-${String(i).padStart(5, '0')}.yaml`), stringify(doc));
  }
  return seen.size;
}

/** The family's expectation rules for one combination: a rule naming other values only is dropped. */
function narrowRules(rules: unknown[], choice: Record<string, string>): unknown[] {
  return rules.flatMap((rule) => {
    const { when, ...rest } = rule as { when?: Record<string, string | string[]> };
    if (when === undefined) return [rule];
    const matches = Object.entries(when).every(([axis, value]) => (Array.isArray(value) ? value : [value]).includes(choice[axis]!));
    return matches ? [{ ...rest, when: Object.fromEntries(Object.keys(when).map((axis) => [axis, choice[axis]])) }] : [];
  });
}

/**
 * Writes one scenario file with one worker and `servers` strict MCP servers (monitoring-mcp, each
 * verifying the worker's RS256 token against one auth server's JWKS through the shim), every server
 * expected `connected`. `timeoutMs` is the worker's per-server bound: a bound, not a wait.
 *
 * @example
 * const file = await writeServersTopology('/tmp/gen', 100, 20_000);
 */
export async function writeServersTopology(dir: string, servers: number, timeoutMs: number): Promise<string> {
  const authUrl = `http://auth-server.service.${DC}.consul:8080`;
  const names = Array.from({ length: servers }, (_, i) => `mcp-${i}`);
  const nodes: Record<string, unknown> = {
    'claude-worker': {
      run: 'worker',
      groups: ['dev', 'claude-worker'],
      firewall: { outbound: [{ port: 8000, proto: 'tcp', groups: ['dev', 'mcp'] }] },
      worker: {
        mcp_servers: Object.fromEntries(
          names.map((name) => [
            name,
            { type: 'http', url: `http://${name}.service.${DC}.consul:8000/v1/mcp`, headers: { Authorization: 'Bearer ${TOKEN}' } },
          ]),
        ),
        tokens: { TOKEN: 'valid' },
      },
    },
    'auth-server': {
      run: 'auth-server',
      groups: ['dev', 'auth-server'],
      service: { name: 'auth-server', port: 8080 },
      env: { ISSUER: authUrl },
      firewall: { inbound: [{ port: 8080, proto: 'tcp', group: 'mcp' }] },
    },
  };
  for (const name of names) {
    nodes[name] = {
      run: 'monitoring-mcp',
      groups: ['dev', 'mcp'],
      service: { name, port: 8000 },
      env: {
        MCP_JWT_AUDIENCE: 'https://monitoring-mcp.tinyspeck.com/v1/mcp',
        MCP_JWT_ISSUER: authUrl,
        MCP_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
      },
      firewall: {
        outbound: [{ port: 8080, proto: 'tcp', group: 'auth-server' }],
        inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }],
      },
    };
  }
  const doc = {
    description: `generated: one worker and ${servers} strict MCP servers`,
    dc: DC,
    timeout_ms: timeoutMs,
    nodes,
    expect: Object.fromEntries(names.map((name) => [name, 'connected'])),
  };
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `servers-${servers}.yaml`);
  await writeFile(file, stringify(doc));
  return file;
}

/**
 * A scenario file that extends `file` with another `timeout_ms`; expectations are `expect`, or the
 * file's own (a matrix file's axes and rules are not inherited, so pass `expect` for one).
 */
export async function writeWithTimeout(dir: string, file: string, timeoutMs: number, expect?: Record<string, unknown>): Promise<string> {
  const own = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const doc = { description: `${path.basename(file)} with timeout_ms ${timeoutMs}`, extends: file, timeout_ms: timeoutMs, expect: expect ?? own.expect };
  await mkdir(dir, { recursive: true });
  const out = path.join(dir, `${path.basename(file, '.yaml')}-${timeoutMs}.yaml`);
  await writeFile(out, stringify(doc));
  return out;
}
