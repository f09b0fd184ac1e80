import { describe, expect, it } from 'vitest';
import { formatEvent } from './describe.ts';
import { exportLines } from './start-up.ts';

describe('exportLines', () => {
  it('quotes values for a POSIX shell, single quotes included', () => {
    expect(exportLines({ A: 'plain', B: "it's $HOME `x`" })).toEqual(["export A='plain'", "export B='it'\\''s $HOME `x`'"]);
  });
});

describe('formatEvent', () => {
  it('prints a shim decision with the node behind the name, and a log line with its fields', () => {
    expect(
      formatEvent({
        kind: 'flow',
        flow: { time: 't', source: 'claude-worker', destination: 'x.service.dc.consul', destinationNode: 'x', port: 8000, proto: 'tcp', verdict: 'drop', reason: 'no rule', via: 'connect' },
      }),
    ).toBe('flow  claude-worker -> x.service.dc.consul (x):8000  drop  no rule');
    expect(formatEvent({ kind: 'log', node: 'monitoring-mcp', entry: { time: 't', service: 'monitoring-mcp', event: 'auth.rejected', error: 'invalid_token', status: 401 } })).toBe(
      'log   monitoring-mcp  auth.rejected  error=invalid_token status=401',
    );
  });
});
