import type { TimerClock, TimerHandle } from './clock.ts';

/** Something that can tell whether real work it knows of is still under way (a request whose answer is on its way). */
export type ActivitySource = () => boolean;

/** Real work held open by hand (`VirtualClock.busy`): the clock does not move until it is released. */
export interface ActivityToken {
  release(): void;
}

interface VirtualTimer {
  readonly __timer: true;
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  /** The real-time backstop (see STALL_GRACE_MS). */
  backstop?: NodeJS.Timeout;
}

/**
 * A backstop, not the mechanism: a timer fires at the latest this long in wall time after its own
 * delay, even while some request still counts as real work. Only a request whose body nobody reads
 * (a stall the accounting cannot see end) ever needs it; then the run ends as in real time, late,
 * instead of hanging. A healthy server's answer is waited for this long past its deadline.
 */
export const STALL_GRACE_MS = 60_000;

/** setImmediate turns without a change that make the event loop "settled" (see VirtualClock). */
const SETTLE_TURNS = 3;

/**
 * One scenario's time. It starts at the real time and moves only by jumps: when every activity
 * source says nothing real is under way, and that stays so for a few event-loop turns (setImmediate,
 * never wall time), it jumps to its earliest timer and fires it, then settles again before the next.
 * So a deadline never fires while an answer is on its way, however long that takes in wall time,
 * and a wait that can only end by a deadline costs none. Timers with the same deadline fire in the
 * order they were set.
 *
 * @example
 * await using clock = new VirtualClock();
 * const stop = clock.addActivitySource(() => requestsInFlight > 0);
 * await sleep(clock, 30_000); // returns in a few event-loop turns once nothing is in flight
 */
export class VirtualClock implements TimerClock, Disposable {
  readonly start: number;
  #now: number;
  #seq = 0;
  #timers = new Set<VirtualTimer>();
  #sources = new Set<ActivitySource>();
  #tokens = 0;
  #epoch = 0;
  #checking = false;
  #closed = false;
  #stalls = 0;

  constructor(start = Date.now()) {
    this.start = start;
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Virtual milliseconds since the start: the sum of the waits the clock jumped over. */
  get elapsed(): number {
    return this.#now - this.start;
  }

  /** Timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: VirtualTimer = { __timer: true, at: this.#now + delay, seq: this.#seq++, callback };
    timer.backstop = setTimeout(() => {
      if (!this.#timers.has(timer)) return;
      this.#stalls += 1;
      this.#fire(timer);
    }, delay + STALL_GRACE_MS).unref();
    this.#timers.add(timer);
    this.notify();
    return timer;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const timer = handle as VirtualTimer | undefined;
    if (timer && this.#timers.delete(timer)) {
      clearTimeout(timer.backstop);
      this.notify();
    }
  }

  /** How many timers the real-time backstop fired (STALL_GRACE_MS): 0 unless the flow accounting missed an end. */
  get stalls(): number {
    return this.#stalls;
  }

  /** Counts `source` in every check; returns the function that removes it. */
  addActivitySource(source: ActivitySource): () => void {
    this.#sources.add(source);
    this.notify();
    return () => {
      this.#sources.delete(source);
      this.notify();
    };
  }

  /** Holds the clock still until the token is released (for real work no source sees). */
  busy(): ActivityToken {
    this.#tokens += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#tokens -= 1;
        this.notify();
      },
    };
  }

  /** Tells the clock that something an activity source reports may have changed. */
  notify(): void {
    this.#epoch += 1;
    if (this.#checking || this.#closed || this.#timers.size === 0) return;
    this.#checking = true;
    this.#turn(this.#epoch, 0);
  }

  #active(): boolean {
    if (this.#tokens > 0) return true;
    for (const source of this.#sources) if (source()) return true;
    return false;
  }

  #turn(epoch: number, quiet: number): void {
    setImmediate(() => {
      if (this.#closed || this.#timers.size === 0 || this.#active()) {
        // A source that goes quiet calls notify(), which starts the next check.
        this.#checking = false;
        return;
      }
      if (epoch !== this.#epoch) return this.#turn(this.#epoch, 0);
      if (quiet + 1 < SETTLE_TURNS) return this.#turn(epoch, quiet + 1);
      this.#checking = false;
      this.#fireEarliest();
    });
  }

  #fireEarliest(): void {
    let earliest: VirtualTimer | undefined;
    for (const timer of this.#timers) {
      if (!earliest || timer.at < earliest.at || (timer.at === earliest.at && timer.seq < earliest.seq)) earliest = timer;
    }
    if (earliest) this.#fire(earliest);
  }

  #fire(timer: VirtualTimer): void {
    this.#timers.delete(timer);
    clearTimeout(timer.backstop);
    if (timer.at > this.#now) this.#now = timer.at;
    try {
      timer.callback();
    } finally {
      this.notify();
    }
  }

  /** Drops every pending timer; the clock no longer moves. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer.backstop);
    this.#timers.clear();
    this.#sources.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** True for a clock whose timers are virtual (the in-process runtime then counts flows for it). */
export function isVirtualClock(clock: unknown): clock is VirtualClock {
  return clock instanceof VirtualClock;
}
