import { describe, expect, it } from 'vitest';
import { workerLaunch } from '../worker-client.ts';
import { claudeCodeClient } from './claude-code-client.ts';

describe('claudeCodeClient', () => {
  it('refuses a worker pinned to 2026-07-28 before starting Claude Code: it has no setting for that (ERR_CLIENT_ARGUMENT)', async () => {
    const launch = workerLaunch({ node: 'worker', servers: [], env: {}, egressProxyUrl: 'http://127.0.0.1:9', timeoutMs: 1_000, settings: undefined, revision: '2026-07-28' });
    await expect(claudeCodeClient().run(launch)).rejects.toMatchObject({ code: 'ERR_CLIENT_ARGUMENT', message: expect.stringContaining('MCP_PROTOCOL_NEGOTIATION') });
  });
});
