// Bring your own server: scenarios/byo replace the simulated monitoring-mcp with a server that is
// not one of the harness's (an image of its own, or a command), and their expectations hold.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScenarioTable } from '../../harness/report/index.ts';
import { runScenario } from '../../harness/runner/index.ts';
import { containersConcurrency, containersRuntime } from '../../harness/runtime/index.ts';
import { discoverScenarios, loadScenarioFile, type Scenario } from '../../harness/topology/index.ts';
import { BYO_IMAGE, containersUnavailable, dockerLines, HARNESS_IMAGE } from './docker-available.ts';
import { processSession } from './suite-sessions.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');
const skip = containersUnavailable([HARNESS_IMAGE, BYO_IMAGE]);
if (skip) console.warn(`test/containers/byo.test.ts skipped: ${skip}`);

const scenarios = (await Promise.all((await discoverScenarios(path.join(root, 'byo'))).map((file) => loadScenarioFile(file, { root })))).flat();
const byId = (id: string) => scenarios.find((scenario) => scenario.id === id) as Scenario;

describe.skipIf(skip !== undefined)('scenarios/byo in containers', () => {
  it.concurrent.for(scenarios.map((scenario) => ({ id: scenario.id, scenario })))('$id meets its expectations', async ({ scenario }, { expect }) => {
    const result = await runScenario(scenario, { runtime: containersRuntime });
    expect(result.ok, formatScenarioTable(result)).toBe(true);
    expect(Object.keys(scenario.expect).length).toBeGreaterThan(0);
  });

  it('says which image to build, with ERR_RUNTIME_DOCKER, when the harness image is missing', async () => {
    const scenario = byId('byo/echo-mcp-as-reported');
    await expect(containersRuntime.start(scenario.topology, { image: 'mcp-topology-harness/not-built:never' })).rejects.toMatchObject({
      code: 'ERR_RUNTIME_DOCKER',
      message: expect.stringMatching(/not-built:never .*docker\/build-images\.sh/),
    });
  });

  it('fails to start, with ERR_RUNTIME_START and the server\'s own words, when a brought server exits, and leaves nothing of it', async () => {
    const { topology } = byId('byo/echo-mcp-as-reported');
    const crashing = topology.nodes.map((node) =>
      node.container ? { ...node, container: { ...node.container, image: undefined, command: ['node', '-e', 'console.error("listen EADDRINUSE: port taken"); process.exit(3)'] } } : node,
    );
    // Nothing else of this process runs now (the concurrent tests above are done): its session is this start's.
    const label = `label=mcp-topology-harness.session=${processSession()}`;
    // More failed starts than this process may have topologies up at once: each gives its slot back.
    for (let attempt = 1; attempt <= containersConcurrency() + 1; attempt++) {
      await expect(containersRuntime.start({ ...topology, nodes: crashing })).rejects.toMatchObject({
        code: 'ERR_RUNTIME_START',
        message: expect.stringMatching(/monitoring-mcp .*did not become ready: listen EADDRINUSE: port taken/),
      });
      // Once start() has thrown, every container and network it made is gone (the other services, the shim).
      expect(dockerLines('ps', '-a', '--filter', label, '--format', '{{.Names}}'), `attempt ${attempt}`).toEqual([]);
      expect(dockerLines('network', 'ls', '--filter', label, '--format', '{{.Name}}'), `attempt ${attempt}`).toEqual([]);
    }
  });

  it('runs the image the scenario names, which serves tools no simulated service has', async () => {
    const scenario = byId('byo/echo-mcp-after-firewall-fix');
    await using running = await containersRuntime.start(scenario.topology);
    const inspect = spawnSync('docker', ['inspect', '--format', '{{.Config.Image}}', running.containerName('monitoring-mcp')], { encoding: 'utf8' });
    expect(inspect.stdout.trim()).toBe(BYO_IMAGE);
    const report = await running.runWorker();
    expect(report.servers.find((server) => server.name === 'prometheus')).toMatchObject({ status: 'connected', tools: ['mcp__prometheus__echo'] });
    expect(running.serviceLog('monitoring-mcp')).toContainEqual(expect.objectContaining({ service: 'echo-mcp', event: 'listening' }));
  });
});
