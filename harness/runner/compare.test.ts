import { describe, expect, it } from 'vitest';
import type { ReasonKind } from '../client/index.ts';
import { compare } from './compare.ts';
import type { ServerResult } from './result.ts';

const failed = (kind: ReasonKind): ServerResult => ({
  name: 'prometheus',
  status: 'failed',
  url: 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp',
  elapsedMs: 0,
  tools: [],
  unpermitted: [],
  reason: { kind, detail: '', hop: { from: 'monitoring-mcp', to: 'auth-server', port: 8080 } },
});

describe('compare: reasons', () => {
  it('passes a kind or its category, and names what was expected when neither matches', () => {
    expect(compare([failed('auth.invalid_token')], { prometheus: { status: 'failed', reason: 'auth' } })[0]!.ok).toBe(true);
    const [outcome] = compare([failed('network.dropped')], { prometheus: { status: 'failed', reason: 'auth.invalid_token' } });
    expect(outcome!.mismatches).toEqual(['reason is network.dropped, expected auth.invalid_token']);
  });

  it('passes any reason of a list (a race the bounds decide), and only those', () => {
    const expected = { prometheus: { status: 'failed' as const, reason: ['auth.invalid_token', 'network.dropped'], hop: 'monitoring-mcp -> auth-server' } };
    expect(compare([failed('auth.invalid_token')], expected)[0]!.ok).toBe(true);
    expect(compare([failed('network.dropped')], expected)[0]!.ok).toBe(true);
    const [outcome] = compare([failed('timeout')], expected);
    expect(outcome!.ok).toBe(false);
    expect(outcome!.mismatches).toEqual(['reason is timeout, expected auth.invalid_token or network.dropped']);
  });
});
