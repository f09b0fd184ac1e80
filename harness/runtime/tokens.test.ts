import path from 'node:path';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import { startAuthServer, TOKEN_KINDS } from '../../mocks/auth-server/index.ts';
import { loadScenarioFile, type Scenario, type TokenSpec, type Topology } from '../topology/index.ts';
import { adminApiMint, AUDIENCE_KINDS, authServerIssuer, mintRequest, mintWorkerTokens, type Mint } from './tokens.ts';

const scenarios = path.resolve(import.meta.dirname, '../../scenarios');
const AUDIENCE = 'https://monitoring-mcp.tinyspeck.com/v1/mcp';

async function topologyWith(tokens: Record<string, TokenSpec>, withoutAuth = false): Promise<Topology> {
  const file = path.join(scenarios, 'incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token.yaml');
  const { topology } = ((await loadScenarioFile(file, { root: scenarios })) as [Scenario])[0];
  const nodes = topology.nodes
    .filter((node) => !(withoutAuth && node.run === 'auth-server'))
    .map((node) => (node.run === 'worker' ? { ...node, worker: { ...node.worker!, tokens } } : node));
  return { ...topology, nodes };
}

/** A token's claims without the one that differs on every mint. */
function claimsOf(token: string): Record<string, unknown> {
  const { jti: _jti, ...claims } = decodeJwt(token);
  return claims;
}

describe('mintRequest', () => {
  it.each(TOKEN_KINDS)('passes a scenario audience to %s only if the kind carries it', (kind) => {
    const request = mintRequest({ kind, audience: AUDIENCE, subject: 'svc', ttl_seconds: 60 });
    expect(request).toEqual({ kind, subject: 'svc', ttlSeconds: 60, ...(AUDIENCE_KINDS.has(kind) ? { audience: AUDIENCE } : {}) });
  });

  it('gives the audience to valid and with-audience only, as the README says', () => {
    expect([...AUDIENCE_KINDS].sort()).toEqual(['valid', 'with-audience']);
  });

  it('leaves out what the scenario does not set', () => {
    expect(mintRequest({ kind: 'valid' })).toEqual({ kind: 'valid' });
  });
});

describe('mintWorkerTokens', () => {
  it("mints the same claims through the auth server's method and through its admin API", async () => {
    await using auth = await startAuthServer({ clock: new ManualClock() });
    const topology = await topologyWith({
      A: { kind: 'valid', audience: AUDIENCE },
      B: { kind: 'wrong-audience', audience: AUDIENCE },
      C: { kind: 'expired', subject: 'svc', ttl_seconds: 60 },
    });
    const method: Mint = ({ kind, ...options }) => auth.mint(kind, options);
    const inProcess = await mintWorkerTokens(topology, () => method);
    const viaAdminApi = await mintWorkerTokens(topology, () => adminApiMint(auth.url));
    expect(Object.keys(viaAdminApi)).toEqual(['A', 'B', 'C']);
    for (const name of ['A', 'B', 'C']) expect(claimsOf(viaAdminApi[name]!)).toEqual(claimsOf(inProcess[name]!));
    expect(claimsOf(inProcess.A!).aud).toBe(AUDIENCE);
    expect(claimsOf(inProcess.B!).aud).not.toBe(AUDIENCE);
    expect(claimsOf(inProcess.C!)).toMatchObject({ sub: 'svc' });
  });

  it('fails the same way in both paths when the auth server refuses, with its code as the cause', async () => {
    await using auth = await startAuthServer();
    const topology = await topologyWith({ PROMETHEUS_TOKEN: { kind: 'with-audience' } });
    const method: Mint = ({ kind, ...options }) => auth.mint(kind, options);
    for (const mint of [method, adminApiMint(auth.url)]) {
      const failure = mintWorkerTokens(topology, () => mint);
      await expect(failure).rejects.toMatchObject({ code: 'ERR_RUNTIME_TOKEN', cause: { code: 'ERR_AUTH_SERVER_MINT' } });
      await expect(failure).rejects.toThrow(/did not mint PROMETHEUS_TOKEN \(with-audience\): ERR_AUTH_SERVER_MINT/);
    }
  });

  it('needs an auth-server node that can mint', async () => {
    const tokens: Record<string, TokenSpec> = { PROMETHEUS_TOKEN: { kind: 'valid' } };
    let asked = 0;
    const noAuth = mintWorkerTokens(await topologyWith(tokens, true), () => {
      asked++;
      return undefined;
    });
    await expect(noAuth).rejects.toMatchObject({ code: 'ERR_RUNTIME_TOKEN' });
    expect(asked).toBe(0);
    // A brought auth server (a container the harness cannot mint through) is such a node.
    const cannotMint = mintWorkerTokens(await topologyWith(tokens), (auth) => (auth.run === 'auth-server' ? undefined : () => Promise.resolve('x')));
    await expect(cannotMint).rejects.toThrow(/\(PROMETHEUS_TOKEN\) need a node with run: auth-server running the simulated auth server/);
  });

  it('asks for no mint when the worker has no tokens', async () => {
    let asked = 0;
    const minted = await mintWorkerTokens(await topologyWith({}), () => {
      asked++;
      return undefined;
    });
    expect(minted).toEqual({});
    expect(asked).toBe(0);
  });
});

describe('authServerIssuer', () => {
  it("is the node's ISSUER when set, else the URL other nodes reach it by", async () => {
    const auth = (await topologyWith({})).nodes.find((node) => node.run === 'auth-server')!;
    expect(authServerIssuer({ ...auth, env: { ISSUER: 'https://issuer.example.invalid' } })).toBe('https://issuer.example.invalid');
    expect(authServerIssuer({ ...auth, env: { ISSUER: '' } })).toBe('http://auth-server.service.dev-us-east-1.consul:8080');
    expect(authServerIssuer({ ...auth, env: {} })).toBe('http://auth-server.service.dev-us-east-1.consul:8080');
  });
});
