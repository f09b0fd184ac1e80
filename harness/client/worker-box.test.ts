import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ClientError } from './errors.ts';
import { runBoxUntilLine, type StartedBoxCommand, type WorkerBox } from './worker-box.ts';

/** A box whose command is played by `script` writing to its streams; records whether it was stopped. */
function box(script: (io: { stdout: PassThrough; stderr: PassThrough; exit: (code: number) => void }) => void) {
  const state = { stopped: 0 };
  const made: WorkerBox = {
    async start() {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let exit!: (code: number) => void;
      const exited = new Promise<number>((resolve) => (exit = resolve));
      const stop = async () => {
        state.stopped++;
      };
      const started: StartedBoxCommand = { stdout, stderr, exited, stop, [Symbol.asyncDispose]: stop };
      queueMicrotask(() =>
        script({
          stdout,
          stderr,
          exit: (code) => {
            exit(code);
            stdout.end();
            stderr.end();
          },
        }),
      );
      return started;
    },
  };
  return { box: made, state };
}

const command = { argv: ['node', 'x.ts'], env: {} };

describe('runBoxUntilLine', () => {
  it('returns the first JSON line that matches, also when it arrives in pieces, and stops the box', async () => {
    const { box: b, state } = box(({ stdout }) => {
      stdout.write('plain text\n{"type":"other"}\n{"type":"wan');
      stdout.write('ted","n":1}\n');
    });
    const line = await runBoxUntilLine(b, command, (candidate) => candidate.type === 'wanted', { timeoutMs: 5_000, what: 'the line' });
    expect(line).toEqual({ type: 'wanted', n: 1 });
    expect(state.stopped).toBeGreaterThan(0);
  });

  it('rejects with the code, the exit status and stderr when the command ends without it', async () => {
    const { box: b, state } = box(({ stdout, stderr, exit }) => {
      stdout.write('{"type":"other"}\n');
      stderr.write('boom: no config\n');
      exit(3);
    });
    const error = await runBoxUntilLine(b, command, (candidate) => candidate.type === 'wanted', { timeoutMs: 5_000, what: 'the line', code: 'ERR_CLAUDE_CONTAINER' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('ERR_CLAUDE_CONTAINER');
    expect((error as Error).message).toMatch(/exited \(code 3\).*boom: no config/);
    expect(state.stopped).toBeGreaterThan(0);
  });

  it('rejects after timeoutMs when nothing matching comes (ERR_CLIENT_BOX by default)', async () => {
    const { box: b, state } = box(() => {});
    const error = await runBoxUntilLine(b, command, () => true, { timeoutMs: 50, what: 'the line' }).catch((caught: unknown) => caught);
    expect((error as ClientError).code).toBe('ERR_CLIENT_BOX');
    expect(state.stopped).toBeGreaterThan(0);
  });
});
