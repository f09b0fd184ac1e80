import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { GenericContainer, Wait } from 'testcontainers';

// Ryuk, testcontainers' clean-up sidecar, is an image from a registry this machine cannot reach.
// Without it nothing reaps a container a crashed test leaves behind, so every container carries
// the label below: `docker rm -f $(docker ps -aq --filter label=mcp-topology-harness=1)` finds them.
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';

const IMAGE = process.env['HARNESS_IMAGE'] ?? 'mcp-topology-harness/node:local';
const LABELS = { 'mcp-topology-harness': '1' };

function dockerUnavailableReason(): string | undefined {
  const info = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 15_000 });
  if (info.error) return `docker info could not run (${info.error.message})`;
  if (info.status !== 0) return `docker info failed: ${info.stderr.trim().split('\n').at(-1) ?? `exit ${info.status}`}`;
  return undefined;
}

const skipReason = dockerUnavailableReason();
if (skipReason !== undefined) {
  console.warn(`docker/images.test.ts skipped: ${skipReason} (run .ci/docker-setup.sh to get an engine and the images)`);
}

// What a service's main.ts does (mocks/shared runMain): listen on HOST/PORT, print the JSON
// `listening` line a runtime waits for, close on SIGTERM (node as PID 1 would otherwise ignore it).
const INLINE_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end(JSON.stringify({ path: req.url, user: require('node:os').userInfo().username })));
server.listen(Number(process.env.PORT), process.env.HOST, () =>
  console.log(JSON.stringify({ service: 'inline', event: 'listening', url: 'http://' + process.env.HOST + ':' + process.env.PORT })));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
`;

describe.skipIf(skipReason !== undefined)(`image ${IMAGE}`, () => {
  beforeAll(() => {
    const image = spawnSync('docker', ['image', 'inspect', IMAGE], { encoding: 'utf8' });
    if (image.status !== 0) throw new Error(`${IMAGE} is not built: run docker/build-images.sh`);
  });

  it('serves HTTP on a published port when a container runs node from it', async () => {
    await using container = await new GenericContainer(IMAGE)
      .withCommand(['node', '-e', INLINE_SERVER])
      .withEnvironment({ PORT: '9090' })
      .withExposedPorts(9090)
      .withLabels(LABELS)
      .withWaitStrategy(Wait.forLogMessage(/"event":"listening"/))
      .withStartupTimeout(30_000)
      .start();

    const response = await fetch(`http://127.0.0.1:${container.getMappedPort(9090)}/ready`);
    expect(response.status).toBe(200);
    // HOST=0.0.0.0 comes from the image; the non-root user too.
    expect(await response.json()).toEqual({ path: '/ready', user: 'node' });
  }, 60_000);

  // The same command a container runtime gives each service; a path every one answers with 200.
  // (`for`, not `each`: concurrent tests must assert with their own context's `expect`.)
  it.concurrent.for([
    { main: 'mocks/auth-server/main.ts', path: '/.well-known/openid-configuration' },
    { main: 'mocks/prometheus/main.ts', path: '/-/ready' },
    { main: 'mocks/monitoring-ai-mcp/main.ts', path: '/' },
    { main: 'mocks/monitoring-mcp/main.ts', path: '/' },
  ])('runs $main and answers GET $path when started from the image', { timeout: 60_000 }, async ({ main, path }, { expect }) => {
    await using container = await new GenericContainer(IMAGE)
      .withCommand(['node', main])
      .withEnvironment({ PORT: '9090' })
      .withExposedPorts(9090)
      .withLabels(LABELS)
      .withWaitStrategy(Wait.forLogMessage(/"event":"listening"/))
      .withStartupTimeout(30_000)
      .start();

    const response = await fetch(`http://127.0.0.1:${container.getMappedPort(9090)}${path}`);
    await response.arrayBuffer();
    expect(response.status).toBe(200);
  });
});
