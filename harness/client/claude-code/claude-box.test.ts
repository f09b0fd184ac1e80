import { describe, expect, it } from 'vitest';
import { resolveClaudeBinary } from './claude-binary.ts';
import { requireImageMatchesPin } from './claude-box.ts';

// The Claude Code image against the pin: a stale image is an error. (The run in a box itself: test/containers/claude-code.test.ts.)
describe('requireImageMatchesPin', () => {
  it('accepts the image when its Claude Code is the pinned version', async () => {
    const pinned = await resolveClaudeBinary({ env: {} });
    await expect(requireImageMatchesPin('img:local', pinned.version)).resolves.toBeUndefined();
  });

  it('refuses an image built before the pin moved, with ERR_CLAUDE_CONTAINER and how to rebuild', async () => {
    const error = await requireImageMatchesPin('img:local', '0.0.1').catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('ERR_CLAUDE_CONTAINER');
    expect((error as Error).message).toMatch(/img:local has Claude Code 0\.0\.1, but node_modules pins \d+\.\d+\.\d+: rebuild it with docker\/build-images\.sh/);
  });
});
