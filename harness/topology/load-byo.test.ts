import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessRuntime } from '../runtime/index.ts';
import { loadScenarioFile } from './index.ts';

// A node may bring its own server (image/command, ready, container_port): the containers runtime's.
let dir: string;

const scenario = (lenient: string, worker = '') => `
nodes:
  worker:
    run: worker
    worker:
      mcp_servers:
        lenient: {type: http, url: "http://lenient.service.dev-us-east-1.consul:8000/mcp"}
${worker}
  lenient:
    run: monitoring-ai-mcp
    service: {name: lenient, port: 8000}
${lenient}
`;

async function load(text: string) {
  const file = path.join(dir, `s${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  return (await loadScenarioFile(file))[0]!;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mth-byo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a node that brings its own server', () => {
  it('reads image, command, ready and container_port into the node', async () => {
    const { topology } = await load(scenario(`    image: team/monitoring-mcp:1.4\n    command: [python, -m, server]\n    ready: {log: "Uvicorn running"}\n    container_port: 9000`));
    expect(topology.nodes.find((node) => node.name === 'lenient')!.container).toEqual({
      image: 'team/monitoring-mcp:1.4',
      command: ['python', '-m', 'server'],
      ready: { log: 'Uvicorn running' },
      port: 9000,
    });
    expect(topology.nodes.find((node) => node.name === 'worker')!.container).toBeUndefined();
  });

  it('defaults to an HTTP probe of / on the service port', async () => {
    const { topology } = await load(scenario('    image: team/echo:1'));
    expect(topology.nodes.find((node) => node.name === 'lenient')!.container).toEqual({ image: 'team/echo:1', command: undefined, ready: { http: '/' }, port: 8000 });
  });

  it.each([
    ['ready without image or command', '    ready: {log: up}', 'ready'],
    ['container_port without image or command', '    container_port: 9000', 'container_port'],
    ['a ready log that is not a regex', '    image: x\n    ready: {log: "(("}', 'ready.log'],
    ['a ready path without its slash', '    image: x\n    ready: {http: healthz}', 'ready'],
    ['an empty command', '    command: []', 'command'],
  ])('refuses %s with ERR_SCENARIO_INVALID naming the field', async (_what, lenient, field) => {
    await expect(load(scenario(lenient))).rejects.toMatchObject({ code: 'ERR_SCENARIO_INVALID', location: { field: expect.stringContaining(field) } });
  });

  it('refuses an image on the worker', async () => {
    await expect(load(scenario('', '    image: team/worker:1'))).rejects.toMatchObject({ code: 'ERR_SCENARIO_INVALID' });
  });

  it('is refused by the in-process runtime with ERR_RUNTIME_NEEDS_CONTAINERS', async () => {
    const { topology } = await load(scenario('    image: team/echo:1'));
    await expect(inProcessRuntime.start(topology)).rejects.toMatchObject({ code: 'ERR_RUNTIME_NEEDS_CONTAINERS', message: expect.stringMatching(/--runtime containers/) });
  });
});
