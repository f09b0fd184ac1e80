// In containers the shim is enforced, not advisory: a node's only way to another node is through
// it. Consul names resolve inside the containers (to the shim, on the node's own network), plain
// requests to them are judged by the firewall like proxied ones, and other nodes' containers
// cannot be reached directly at all.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { containersRuntime } from '../../harness/runtime/index.ts';
import { loadScenarioFile, type Scenario } from '../../harness/topology/index.ts';
import { containersUnavailable } from './docker-available.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../scenarios');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/isolation.test.ts skipped: ${skip}`);

const JWKS = 'http://auth-server.service.dev-us-east-1.consul:8080/.well-known/jwks.json';

/** Runs `script` with node inside `container`; what it printed. */
async function nodeIn(container: string, script: string): Promise<string> {
  const { stdout } = await run('docker', ['exec', container, 'node', '-e', script], { timeout: 30_000 });
  return stdout.trim();
}

/** What a plain fetch (no proxy: Node's fetch ignores HTTP_PROXY) sees from inside `container`. */
function fetchFrom(container: string, url: string, timeoutMs = 2_000): Promise<string> {
  return nodeIn(
    container,
    `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(${timeoutMs}) })
      .then((r) => console.log('status ' + r.status), (e) => console.log('error ' + (e.cause?.code ?? e.name)));`,
  );
}

describe.skipIf(skip !== undefined)('the network shim in containers', () => {
  it('is the only way between nodes, by Consul names that resolve inside the containers', async () => {
    const [scenario] = (await loadScenarioFile(path.join(root, 'incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix.yaml'), { root })) as [Scenario];
    await using running = await containersRuntime.start(scenario.topology);
    const monitoringMcp = running.containerName('monitoring-mcp');

    // monitoring-mcp's outbound rule allows the auth server on 8080: the name resolves to the shim, which forwards.
    expect(await fetchFrom(monitoringMcp, JWKS)).toBe('status 200');
    // prometheus (trickster) has no outbound rule: Nebula's default drops the flow, so the client times out.
    expect(await fetchFrom(running.containerName('prometheus'), JWKS, 1_000)).toBe('error TimeoutError');
    // The auth server's own container is on another network: its name does not resolve there...
    // (Docker's DNS answers for the names on this network; other names it would forward out, which an
    // internal network cannot: a short-bounded resolver says so without waiting for getaddrinfo's retries.)
    const lookup = await nodeIn(
      monitoringMcp,
      `new (require('node:dns').promises.Resolver)({ timeout: 500, tries: 1 }).resolve4(${JSON.stringify(running.containerName('auth-server'))})
        .then((a) => console.log(a.join(',')), (e) => console.log(e.code))`,
    );
    expect(lookup).toMatch(/^(ENOTFOUND|ETIMEOUT|ESERVFAIL|EREFUSED)$/);
    // ...and its address, on a network monitoring-mcp is not on, takes no connection from it.
    const { stdout: authIp } = await run('docker', ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', running.containerName('auth-server')]);
    const direct = await nodeIn(
      monitoringMcp,
      `const s = require('node:net').connect(8080, ${JSON.stringify(authIp.trim())}); s.setTimeout(1000);
       s.on('connect', () => { console.log('connected'); s.destroy(); }); s.on('timeout', () => { console.log('timeout'); s.destroy(); });
       s.on('error', (e) => console.log(e.code));`,
    );
    expect(direct).toMatch(/^(timeout|EHOSTUNREACH|ECONNREFUSED|ENETUNREACH)$/);

    expect(running.networkEvents().map((event) => [event.source, event.destinationNode, event.port, event.verdict, event.via])).toEqual([
      ['monitoring-mcp', 'auth-server', 8080, 'allow', 'dns'],
      ['prometheus', 'auth-server', 8080, 'drop', 'dns'],
    ]);
  });
});
