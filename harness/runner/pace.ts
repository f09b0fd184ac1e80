export interface PaceOptions {
  /** The most tasks running at once. */
  max: number;
  /** Tasks that may run whatever the load (at least 1, at most `max`). */
  minimum: number;
  /** Whether the process is too busy to take one more task now. */
  busy: () => boolean;
  /** Waits before the next admission beyond `minimum`: admissions are paced, one per wait. */
  wait: () => Promise<void>;
}

/**
 * Runs `task(0)` ... `task(count - 1)`, up to `max` at once, admitting a task beyond `minimum` only
 * when `busy()` says the process has room, one per `wait()`. Most of a scenario is waiting (for a
 * dropped flow's timeout, a JWKS timeout), so how many may run at once depends on how many are
 * computing, not on a fixed count: too few leaves the cores idle, too many stretches a healthy
 * handshake past its timeout. The first task to reject stops admissions; its error is thrown once
 * the running tasks have ended.
 *
 * @example
 * await runPaced(scenarios.length, async (i) => { results[i] = await runScenario(scenarios[i]) }, { max: 32, minimum: 2, busy, wait });
 */
export async function runPaced(count: number, task: (index: number) => Promise<void>, options: PaceOptions): Promise<void> {
  const max = Math.max(1, options.max);
  const minimum = Math.min(max, Math.max(1, options.minimum));
  const running = new Set<Promise<void>>();
  let failed: { error: unknown } | undefined;
  for (let index = 0; index < count && !failed; index++) {
    // Each turn waits for a task to end or for one pacing interval; every task ends (a scenario is bounded by its timeouts).
    while (running.size >= minimum && !failed) {
      if (running.size >= max) await Promise.race(running);
      else {
        await options.wait();
        if (!options.busy()) break;
      }
    }
    if (failed) break;
    const run: Promise<void> = task(index)
      .catch((error: unknown) => {
        failed ??= { error };
      })
      .finally(() => running.delete(run));
    running.add(run);
  }
  await Promise.all(running);
  if (failed) throw failed.error;
}
