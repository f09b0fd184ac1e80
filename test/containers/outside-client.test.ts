// The public API for outside clients, in containers: the same launch as in-process (env with the
// minted tokens, .mcp.json, settings.json), egress URLs that name the shim, and a clear error for a
// client that cannot run in the worker's container.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkerClient } from '../../harness/client/index.ts';
import { containersRuntime } from '../../harness/runtime/index.ts';
import { loadScenarioFile, type Scenario } from '../../harness/topology/index.ts';
import { containersUnavailable } from './docker-available.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/outside-client.test.ts skipped: ${skip}`);

describe.skipIf(skip !== undefined)('a started topology in containers, for outside clients', () => {
  it('gives the worker launch and every node, and refuses a client that cannot run in a container with ERR_RUNTIME_CLIENT', async () => {
    const [scenario] = (await loadScenarioFile(path.join(root, 'incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token.yaml'), { root })) as [Scenario];
    await using running = await containersRuntime.start(scenario.topology);
    const nodes = running.nodes();
    expect(nodes.map((node) => node.name)).toEqual(scenario.topology.nodes.map((node) => node.name));
    for (const node of nodes) expect(node.egressProxyUrl).toBe(`http://${running.shimName}:${new URL(node.egressProxyUrl).port}`);
    // The auth server's admin API is published to mint the worker's token: reachable from here.
    const auth = nodes.find((node) => node.run === 'auth-server')!;
    expect(auth.serviceUrl).toBe('http://auth-server.service.dev-us-east-1.consul:8080');
    const metadata = await fetch(`${auth.localUrl}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    await metadata.body?.cancel();

    const launch = await running.worker();
    expect(launch.env.PROMETHEUS_TOKEN?.split('.')).toHaveLength(3);
    expect(launch.mcpJson.mcpServers.prometheus?.headers).toEqual({ Authorization: 'Bearer ${PROMETHEUS_TOKEN:-orchestration-agent}' });
    expect(launch.settingsJson?.permissions.allow).toContain('mcp__prometheus');

    // A client with no way into a box (claude-code has one: test/containers/claude-code.test.ts).
    const hostOnly: WorkerClient = { name: 'claude-code', run: () => Promise.reject(new Error('not here')) };
    const refused = await running.runWorker(hostOnly).catch((error: unknown) => error);
    expect((refused as { code?: string }).code).toBe('ERR_RUNTIME_CLIENT');
  }, 180_000);
});
