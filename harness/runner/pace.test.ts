import { describe, expect, it } from 'vitest';
import { runPaced, type PaceOptions } from './pace.ts';

/** Tasks that end when the test says so, recording how many ran at once. */
function controlledTasks(count: number) {
  const finish: (() => void)[] = [];
  const fail: ((error: Error) => void)[] = [];
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  const task = (index: number) =>
    new Promise<void>((resolve, reject) => {
      started.push(index);
      running += 1;
      peak = Math.max(peak, running);
      finish[index] = () => {
        running -= 1;
        resolve();
      };
      fail[index] = (error) => {
        running -= 1;
        reject(error);
      };
    });
  return { task, finish, fail, started, peak: () => peak, count };
}

// A turn of the event loop: lets runPaced take its next decision without any timer.
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await turn();
}

const options = (overrides: Partial<PaceOptions> = {}): PaceOptions => ({ max: 4, minimum: 1, busy: () => false, wait: turn, ...overrides });

describe('runPaced', () => {
  it('runs every task once and never more than max at once when the process has room', async () => {
    const tasks = controlledTasks(10);
    const done = runPaced(10, tasks.task, options({ max: 3 }));
    for (let i = 0; i < 10; i++) {
      await settle();
      tasks.finish[tasks.started[i]!]!();
    }
    await done;
    expect([...tasks.started].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(tasks.peak()).toBe(3);
  });

  it('admits no more than minimum while the process is busy', async () => {
    const tasks = controlledTasks(6);
    const done = runPaced(6, tasks.task, options({ max: 6, minimum: 2, busy: () => true }));
    await settle(10);
    expect(tasks.started).toEqual([0, 1]);
    for (let i = 0; i < 6; i++) {
      await settle();
      tasks.finish[i]!();
    }
    await done;
    expect(tasks.peak()).toBe(2);
  });

  it('admits one task per wait beyond minimum', async () => {
    const tasks = controlledTasks(5);
    let waits = 0;
    const release: (() => void)[] = [];
    const wait = () => new Promise<void>((resolve) => release.push(() => ((waits += 1), resolve())));
    const done = runPaced(5, tasks.task, options({ max: 5, minimum: 1, wait }));
    await settle();
    expect(tasks.started).toEqual([0]);
    release.shift()!();
    await settle();
    expect(tasks.started).toEqual([0, 1]);
    release.shift()!();
    await settle();
    expect(tasks.started).toEqual([0, 1, 2]);
    while (release.length > 0 || tasks.started.length < 5) {
      release.shift()?.();
      await settle();
    }
    for (const index of tasks.started) tasks.finish[index]!();
    await done;
    expect(waits).toBe(4);
  });

  it('stops admitting after a task rejects and throws its error once the others end', async () => {
    const tasks = controlledTasks(8);
    const done = runPaced(8, tasks.task, options({ max: 2, minimum: 2 }));
    const outcome = done.then(
      () => undefined,
      (error: unknown) => error,
    );
    await settle();
    expect(tasks.started).toEqual([0, 1]);
    tasks.fail[0]!(new Error('boom'));
    await settle();
    expect(tasks.started).toEqual([0, 1]);
    tasks.finish[1]!();
    expect(await outcome).toEqual(new Error('boom'));
    expect(tasks.started).toEqual([0, 1]);
  });

  it('resolves at once for no tasks', async () => {
    await expect(runPaced(0, () => Promise.reject(new Error('never')), options())).resolves.toBeUndefined();
  });
});
