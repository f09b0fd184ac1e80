/** Injected time: services and the harness read time only through a Clock, so tests never sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

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
