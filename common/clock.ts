/** Injected time: services and the harness read time only through a Clock, so tests never sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** A timer handle of a `Timers`; opaque to callers. */
export type TimerHandle = { readonly __timer: true } | NodeJS.Timeout;

/**
 * Timers on a clock's time: the real ones (`systemClock`), or a scenario's virtual clock, whose
 * timers fire only when nothing real is pending (virtual-clock.ts).
 */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export type TimerClock = Clock & Timers;

export const systemClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/** The clock's own timers when it has them, else the real ones (a ManualClock only reads time). */
export function timersOf(clock: Clock): Timers {
  const maybe = clock as Partial<Timers>;
  return typeof maybe.setTimeout === 'function' && typeof maybe.clearTimeout === 'function' ? (clock as TimerClock) : systemClock;
}

/**
 * An AbortSignal that aborts with a `TimeoutError` after `ms` on `clock`'s timers: what
 * `AbortSignal.timeout(ms)` is on real time.
 *
 * @example
 * await fetch(url, { signal: timeoutSignal(clock, 30_000) });
 */
export function timeoutSignal(clock: Clock, ms: number): AbortSignal {
  const timers = timersOf(clock);
  if (timers === systemClock) return AbortSignal.timeout(ms);
  const controller = new AbortController();
  timers.setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  return controller.signal;
}

/**
 * Resolves after `ms` on `clock`'s timers; rejects with the signal's reason when it aborts first.
 *
 * @example
 * await sleep(clock, 1_500, signal);
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  const timers = timersOf(clock);
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timers.clearTimeout(handle);
      reject(signal!.reason);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A clock that is told of a service's deliberate waits (`delayed`), apart from its other timers:
 * the in-process flow accounting gives each node one, so that a request parked on such a wait
 * counts as waiting on a deadline, not as work under way (harness/runtime/flow-accounting.ts).
 */
export interface DelayAwareClock extends TimerClock {
  /** Counts one deliberate wait until the returned function is called. */
  delaying(): () => void;
}

/**
 * Calls `callback` after `ms` on `clock`'s timers, as a wait the service does on purpose (a server
 * slow under load): a DelayAwareClock counts it while it runs. Returns the function that cancels it.
 *
 * @example
 * const cancel = delayed(clock, 4_700, next);
 * res.once('close', cancel);
 */
export function delayed(clock: Clock, ms: number, callback: () => void): () => void {
  const timers = timersOf(clock);
  const done = typeof (clock as Partial<DelayAwareClock>).delaying === 'function' ? (clock as DelayAwareClock).delaying() : () => {};
  const handle = timers.setTimeout(() => {
    done();
    callback();
  }, ms);
  return () => {
    timers.clearTimeout(handle);
    done();
  };
}

/**
 * A clock that moves only when told to.
 *
 * @example
 * const clock = new ManualClock(Date.parse('2025-10-01T18:00:00Z'));
 * clock.advance(301_000); // past the JWKS cache lifetime
 */
export class ManualClock implements Clock {
  #now: number;

  constructor(start = Date.parse('2025-10-01T18:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}
