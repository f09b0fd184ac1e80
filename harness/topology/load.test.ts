import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFlow } from '../network/index.ts';
import { loadScenarioFile, requiredRuntime, requireExpectations, resolveScenarioArgs, TopologyError } from './index.ts';

let dir: string;

const base = `
description: base
nodes:
  worker:
    run: worker
    groups: [dev]
    firewall:
      outbound:
        - {port: 8000, proto: tcp, group: dev}
    worker:
      mcp_servers:
        lenient:
          type: http
          url: "http://lenient.service.dev-us-east-1.consul:8000/monitoring/v1/mcp?toolset=grafana"
          headers:
            Authorization: "Bearer \${TOKEN:-orchestration-agent}"
  lenient:
    run: monitoring-ai-mcp
    groups: [lenient, dev]
    service: {name: lenient, port: 8000}
    env: {MCP_JWT_AUDIENCE: aud}
    firewall:
      inbound:
        - {port: 8000, proto: tcp, group: dev}
`;

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function loadError(name: string, text: string): Promise<TopologyError> {
  const file = await write(name, text);
  const error = await loadScenarioFile(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TopologyError);
  return error as TopologyError;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mth-topology-'));
  await write('base.yaml', base);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadScenarioFile', () => {
  it('resolves extends and applies the patch as a JSON merge patch', async () => {
    const file = await write(
      'step.yaml',
      `extends: base.yaml
patch:
  nodes:
    lenient:
      env: {MCP_JWT_AUDIENCE: null, EXTRA: "1"}
expect:
  lenient: connected
`,
    );
    const [scenario] = await loadScenarioFile(file, { root: dir });
    expect(scenario!.id).toBe('step');
    const lenient = scenario!.topology.nodes.find((node) => node.name === 'lenient')!;
    expect(lenient.env).toEqual({ EXTRA: '1' });
    expect(lenient.service!.host).toBe('lenient.service.dev-us-east-1.consul');
    expect(scenario!.expect).toEqual({ lenient: { status: 'connected' } });
    expect(scenario!.description).toBeUndefined();
    const worker = scenario!.topology.nodes.find((node) => node.run === 'worker')!;
    expect(worker.worker!.servers[0]).toMatchObject({ name: 'lenient', type: 'http' });
    expect(worker.identity.ip).toMatch(/^10\.42\./);
    expect(scenario!.sources).toEqual([file, path.join(dir, 'base.yaml')]);
  });

  it("lists the worker's config_file and settings_file among its sources", async () => {
    await write('agent_config.yaml', 'mcp_servers:\n  lenient:\n    type: http\n    url: "http://lenient.service.dev-us-east-1.consul:8000/mcp"\n');
    await write('settings.json', '{"permissions": {"allow": ["mcp__lenient"]}}');
    const file = await write(
      'own-files.yaml',
      'extends: base.yaml\npatch:\n  nodes:\n    worker:\n      worker: {mcp_servers: null, config_file: agent_config.yaml, settings_file: settings.json}\nexpect:\n  lenient: connected\n',
    );
    const [scenario] = await loadScenarioFile(file, { root: dir });
    expect(scenario!.sources).toEqual([file, path.join(dir, 'base.yaml'), path.join(dir, 'agent_config.yaml'), path.join(dir, 'settings.json')]);
  });

  it.each([
    ['an unknown field', 'extends: base.yaml\nexpect:\n  lenient: {status: connected, reasn: auth}\n', 3, 'expect.lenient'],
    ['a bad status', 'extends: base.yaml\nexpect:\n  lenient: up\n', 3, 'expect.lenient'],
    ['a list of one reason', 'extends: base.yaml\nexpect:\n  lenient: {status: failed, reason: [auth]}\n', 3, 'expect.lenient.reason'],
    ['a bad reason in a list', 'extends: base.yaml\nexpect:\n  lenient:\n    status: failed\n    reason: [auth, Network-Dropped]\n', 5, 'expect.lenient.reason[1]'],
    ['a bad type in the patch', 'extends: base.yaml\npatch:\n  nodes:\n    lenient:\n      groups: dev\n', 5, 'nodes.lenient.groups'],
    ['an unknown node field', 'extends: base.yaml\npatch:\n  nodes:\n    lenient:\n      grups: [dev]\n', 5, 'nodes.lenient'],
  ])('names file, line and field for %s', async (_case, text, line, field) => {
    const error = await loadError('bad.yaml', text);
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.location).toMatchObject({ file: path.join(dir, 'bad.yaml'), line, field });
    expect(error.message).toContain(`bad.yaml:${line}`);
  });

  it('reports a bad field of the base in the base file', async () => {
    await write('bad-base.yaml', base.replace('groups: [lenient, dev]', 'groups: 7'));
    const error = await loadError('uses-bad-base.yaml', 'extends: bad-base.yaml\n');
    expect(error.location).toMatchObject({ file: path.join(dir, 'bad-base.yaml'), field: 'nodes.lenient.groups' });
  });

  it('rejects YAML that does not parse, with its line', async () => {
    const error = await loadError('broken.yaml', 'extends: base.yaml\nexpect:\n  lenient: [connected\n');
    expect(error.code).toBe('ERR_SCENARIO_YAML');
    expect(error.location?.line).toBeGreaterThanOrEqual(3);
  });

  it('rejects an extends cycle and a missing base', async () => {
    await write('a.yaml', 'extends: b.yaml\n');
    await write('b.yaml', 'extends: a.yaml\n');
    expect((await loadError('c.yaml', 'extends: a.yaml\n')).code).toBe('ERR_SCENARIO_EXTENDS');
    const missing = await loadError('d.yaml', 'extends: nowhere.yaml\n');
    expect(missing.code).toBe('ERR_SCENARIO_EXTENDS');
    expect(missing.location).toMatchObject({ line: 1, field: 'extends' });
  });

  it('rejects a firewall section Nebula would reject, at its place', async () => {
    const error = await loadError(
      'bad-firewall.yaml',
      'extends: base.yaml\npatch:\n  nodes:\n    worker:\n      firewall:\n        outbound:\n          - {port: 8000, proto: tcp}\n',
    );
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.location).toMatchObject({ line: 7, field: 'nodes.worker.firewall.outbound[0]' });
  });

  it('reads the Nebula version, a node\'s CA fingerprint and its unsafe networks', async () => {
    const sha = 'ab'.repeat(32);
    const file = await write(
      'versions.yaml',
      `extends: base.yaml\nnebula: "1.10"\npatch:\n  nodes:\n    lenient:\n      ca_name: ca-dev\n      ca_sha: "${sha}"\n      subnets: [192.168.50.0/24]\n`,
    );
    const [scenario] = await loadScenarioFile(file, { root: dir });
    expect(scenario!.topology.nebula).toBe('1.10');
    const lenient = scenario!.topology.nodes.find((node) => node.name === 'lenient')!;
    expect(lenient.identity).toMatchObject({ caName: 'ca-dev', caSha: sha, subnets: ['192.168.50.0/24'] });
    expect(lenient.firewall.nebula).toBe('1.10');
    expect((await loadScenarioFile(path.join(dir, 'base.yaml'), { root: dir }))[0]!.topology.nebula).toBe('1.11');
  });

  it.each([
    ['the CA the rule names', 'ab'.repeat(32), 'allow'],
    ['another CA', 'cd'.repeat(32), 'drop'],
  ])('judges a ca_sha rule against a node signed by %s: %s', async (_name, sha, verdict) => {
    const rule = `{port: 8000, proto: tcp, ca_sha: "${'ab'.repeat(32)}"}`;
    const file = await write(
      `ca-sha-${verdict}.yaml`,
      `extends: base.yaml\npatch:\n  nodes:\n    worker:\n      ca_sha: "${sha}"\n    lenient:\n      firewall:\n        inbound:\n          - ${rule}\n`,
    );
    const [scenario] = await loadScenarioFile(file, { root: dir });
    const [worker, lenient] = ['worker', 'lenient'].map((name) => scenario!.topology.nodes.find((node) => node.name === name)!);
    const result = evaluateFlow({ from: worker!, to: lenient!, port: 8000, proto: 'tcp' });
    expect(result.verdict).toBe(verdict);
    if (verdict === 'drop') expect(result.inbound.reason).toContain(`needs ca_sha ${'ab'.repeat(32)}; worker has CA (unnamed), sha ${sha}`);
  });

  it.each([
    ['an unknown Nebula version', 'nebula: "1.7"\n', 'nebula', 'unknown Nebula version "1.7"; known versions: 1.6, 1.9, 1.10, 1.11'],
    ['a Nebula version YAML reads as a number', 'nebula: 1.10\n', 'nebula', 'write the Nebula version as a quoted string'],
    ['a CA fingerprint that is not one', 'patch:\n  nodes:\n    lenient:\n      ca_sha: sha-dev\n', 'nodes.lenient.ca_sha', 'a CA fingerprint: 64 lower-case hex digits'],
  ])('rejects %s, naming the field', async (_name, extra, field, message) => {
    const error = await loadError('bad-version.yaml', `extends: base.yaml\n${extra}`);
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.location).toMatchObject({ field });
    expect(error.message).toContain(message);
  });

  it('parses the firewall with the topology\'s Nebula version (cidr: any is an error before 1.10)', async () => {
    const patch = 'patch:\n  nodes:\n    worker:\n      firewall:\n        outbound:\n          - {port: 8000, proto: tcp, cidr: any}\n';
    const error = await loadError('cidr-any-19.yaml', `extends: base.yaml\nnebula: "1.9"\n${patch}`);
    expect(error.location).toMatchObject({ field: 'nodes.worker.firewall.outbound[0].cidr' });
    const [scenario] = await loadScenarioFile(await write('cidr-any-110.yaml', `extends: base.yaml\nnebula: "1.10"\n${patch}`), { root: dir });
    expect(scenario!.topology.nodes.find((node) => node.name === 'worker')!.firewall.outbound[0]!.anyPeer).toBe(true);
  });

  it('rejects an unknown PyJWT version of monitoring-mcp at its line, naming the known ones', async () => {
    const text = 'extends: base.yaml\npatch:\n  nodes:\n    strict:\n      run: monitoring-mcp\n      service: {name: strict, port: 8000}\n      env:\n        PYJWT_VERSION: "2.9"\n';
    const error = await loadError('bad-pyjwt.yaml', text);
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.location).toMatchObject({ line: 8, field: 'nodes.strict.env.PYJWT_VERSION' });
    expect(error.message).toContain('PYJWT_VERSION must be one of 2.12, 2.13, 2.14, 2.15');
  });

  it('rejects an unknown MCP_REVISIONS of an MCP server at its line', async () => {
    const error = await loadError('bad-revisions.yaml', 'extends: base.yaml\npatch:\n  nodes:\n    lenient:\n      env:\n        MCP_REVISIONS: "2025-06-18"\n');
    expect(error.location).toMatchObject({ line: 6, field: 'nodes.lenient.env.MCP_REVISIONS' });
    expect(error.message).toContain('MCP_REVISIONS must be one of 2025-11-25, 2026-07-28, both');
  });

  it('reads a PyJWT version written as a YAML number', async () => {
    const file = await write('pyjwt-number.yaml', 'extends: base.yaml\npatch:\n  nodes:\n    strict:\n      run: monitoring-mcp\n      service: {name: strict, port: 8000}\n      env:\n        PYJWT_VERSION: 2.12\n');
    const [scenario] = await loadScenarioFile(file);
    expect(scenario?.topology.nodes.find((node) => node.name === 'strict')?.env.PYJWT_VERSION).toBe('2.12');
  });

  it("names the line and field of a worker MCP_TIMEOUT that is not a number of milliseconds", async () => {
    const error = await loadError('bad-mcp-timeout.yaml', `extends: base.yaml\npatch:\n  nodes:\n    worker:\n      worker:\n        env:\n          MCP_TIMEOUT: 30s\n`);
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.location).toMatchObject({ field: 'nodes.worker.worker.env.MCP_TIMEOUT' });
    expect(error.message).toContain('MCP_TIMEOUT must be a positive whole number of milliseconds, got "30s"');
  });

  it('names the line, the field and the known revisions of an unknown worker client_revision', async () => {
    const error = await loadError('bad-revision.yaml', `extends: base.yaml\npatch:\n  nodes:\n    worker:\n      worker:\n        client_revision: "2025-06-18"\n`);
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.location).toMatchObject({ field: 'nodes.worker.worker.client_revision', line: 6 });
    expect(error.message).toContain('must be one of 2025-11-25, 2026-07-28');
  });

  it.each([['2025-11-25'], ['2026-07-28']])('carries a worker client_revision %s to the topology', async (revision) => {
    const file = path.join(dir, `revision-${revision}.yaml`);
    await writeFile(file, `extends: base.yaml\npatch:\n  nodes:\n    worker:\n      worker:\n        client_revision: "${revision}"\nexpect:\n  prometheus: connected\n`);
    const [scenario] = await loadScenarioFile(file);
    expect(scenario?.topology.nodes.find((node) => node.run === 'worker')?.worker?.revision).toBe(revision);
  });

  it('rejects a worker config error with the worker block named', async () => {
    const error = await loadError(
      'bad-worker.yaml',
      'extends: base.yaml\npatch:\n  nodes:\n    worker:\n      worker:\n        mcp_servers:\n          other: {type: http}\n',
    );
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.message).toContain('url');
    expect(error.location?.file).toBe(path.join(dir, 'bad-worker.yaml'));
  });

  it('expands a matrix into one scenario per combination, with the first matching rule per server', async () => {
    const file = await write(
      'matrix.yaml',
      `extends: base.yaml
matrix:
  axes:
    token:
      values: [valid, expired]
      patch: {nodes: {worker: {worker: {tokens: {TOKEN: "\${token}"}}}}}
    audience:
      set: {}
      unset: {nodes: {lenient: {env: {MCP_JWT_AUDIENCE: null}}}}
  expect:
    - when: {token: expired, audience: set}
      lenient: {status: failed, reason: auth}
    - lenient: connected
`,
    );
    const scenarios = await loadScenarioFile(file, { root: dir });
    expect(scenarios.map((scenario) => scenario.id)).toEqual([
      'matrix/token=valid/audience=set',
      'matrix/token=valid/audience=unset',
      'matrix/token=expired/audience=set',
      'matrix/token=expired/audience=unset',
    ]);
    expect(scenarios[2]!.expect.lenient).toEqual({ status: 'failed', reason: 'auth' });
    expect(scenarios[3]!.expect.lenient).toEqual({ status: 'connected' });
    const worker = scenarios[2]!.topology.nodes.find((node) => node.run === 'worker')!;
    expect(worker.worker!.tokens).toEqual({ TOKEN: { kind: 'expired' } });
    expect(scenarios[1]!.topology.nodes.find((node) => node.name === 'lenient')!.env).toEqual({});
  });

  it('rejects a matrix rule naming an unknown axis value', async () => {
    const error = await loadError(
      'bad-matrix.yaml',
      'extends: base.yaml\nmatrix:\n  axes:\n    a: {x: {}}\n  expect:\n    - when: {a: y}\n      lenient: connected\n',
    );
    expect(error.location).toMatchObject({ line: 6, field: 'matrix.expect[0].when.a' });
  });

  it('rejects a matrix whose rules leave a member without an expectation for a server they check elsewhere', async () => {
    const error = await loadError(
      'holey-matrix.yaml',
      'extends: base.yaml\nmatrix:\n  axes:\n    a: {x: {}, y: {}}\n  expect:\n    - when: {a: x}\n      lenient: connected\n',
    );
    expect(error.code).toBe('ERR_SCENARIO_INVALID');
    expect(error.location).toMatchObject({ field: 'matrix.expect' });
    expect(error.message).toContain('no rule gives lenient an expectation for a=y');
  });

  it('rejects a matrix rule that names no server', async () => {
    const error = await loadError(
      'empty-rule.yaml',
      'extends: base.yaml\nmatrix:\n  axes:\n    a: {x: {}}\n  expect:\n    - lenient: connected\n    - when: {a: x}\n',
    );
    expect(error.location).toMatchObject({ line: 7, field: 'matrix.expect[1]' });
    expect(error.message).toContain('a rule must give at least one server an expectation');
  });
});

describe('requireExpectations', () => {
  it('throws ERR_SCENARIO_NO_EXPECT naming the file and `expect` for a scenario that checks nothing', async () => {
    const file = await write('no-expect.yaml', 'extends: base.yaml\n');
    const [scenario] = await loadScenarioFile(file, { root: dir });
    expect(() => requireExpectations(scenario!)).toThrow(expect.objectContaining({ code: 'ERR_SCENARIO_NO_EXPECT', location: { file, field: 'expect' } }));
    await expect(resolveScenarioArgs([file], { root: dir })).rejects.toMatchObject({ code: 'ERR_SCENARIO_NO_EXPECT' });
  });

  it('throws for `expect: {}` too, and passes a scenario that expects something', async () => {
    const [empty] = await loadScenarioFile(await write('empty-expect.yaml', 'extends: base.yaml\nexpect: {}\n'));
    expect(() => requireExpectations(empty!)).toThrow(expect.objectContaining({ code: 'ERR_SCENARIO_NO_EXPECT' }));
    const [some] = await loadScenarioFile(await write('some-expect.yaml', 'extends: base.yaml\nexpect: {lenient: connected}\n'));
    expect(() => requireExpectations(some!)).not.toThrow();
  });
});

describe('requiredRuntime', () => {
  it('is inprocess for simulated services and containers for a node that brings its own server', async () => {
    const [simulated] = await loadScenarioFile(path.join(dir, 'base.yaml'));
    expect(requiredRuntime(simulated!.topology)).toBe('inprocess');
    const [brought] = await loadScenarioFile(await write('brought.yaml', 'extends: base.yaml\npatch:\n  nodes:\n    lenient: {image: team/lenient:1}\n'));
    expect(requiredRuntime(brought!.topology)).toBe('containers');
  });
});
