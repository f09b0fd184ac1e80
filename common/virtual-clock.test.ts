import { describe, expect, it, vi } from 'vitest';
import { sleep, systemClock, timeoutSignal, timersOf, ManualClock } from './clock.ts';
import { STALL_GRACE_MS, VirtualClock } from './virtual-clock.ts';

const turns = (n: number) => new Promise<void>((resolve) => {
  const step = (left: number) => (left === 0 ? resolve() : setImmediate(() => step(left - 1)));
  step(n);
});

describe('VirtualClock', () => {
  it('jumps to each deadline in order, timers with the same deadline in the order they were set', async () => {
    using clock = new VirtualClock(1_000);
    const fired: string[] = [];
    await new Promise<void>((resolve) => {
      clock.setTimeout(() => fired.push(`b@${clock.now()}`), 30_000);
      clock.setTimeout(() => fired.push(`a@${clock.now()}`), 1_500);
      clock.setTimeout(() => {
        fired.push(`c@${clock.now()}`);
        resolve();
      }, 30_000);
    });
    expect(fired).toEqual(['a@2500', 'b@31000', 'c@31000']);
    expect(clock.elapsed).toBe(30_000);
  });

  it('costs no wall time for a wait that only a deadline ends', async () => {
    using clock = new VirtualClock();
    const started = performance.now();
    await sleep(clock, 3_600_000);
    expect(clock.elapsed).toBe(3_600_000);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('does not move while real work is held open, however long it takes in wall time', async () => {
    using clock = new VirtualClock();
    const token = clock.busy();
    let fired = false;
    clock.setTimeout(() => (fired = true), 10);
    await new Promise((resolve) => setTimeout(resolve, 150)); // real time, 15 times the virtual deadline
    expect(fired).toBe(false);
    expect(clock.elapsed).toBe(0);
    token.release();
    await turns(10);
    expect(fired).toBe(true);
    expect(clock.elapsed).toBe(10);
  });

  it('fires a timer at the latest STALL_GRACE_MS of wall time past its delay, when the work it waits for never ends (a stall, counted)', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      using clock = new VirtualClock(0);
      clock.busy(); // never released: a request whose body nobody reads
      const fired: number[] = [];
      clock.setTimeout(() => fired.push(clock.now()), 30_000);
      const cleared = clock.setTimeout(() => fired.push(-1), 30_000);
      clock.clearTimeout(cleared);
      vi.advanceTimersByTime(30_000 + STALL_GRACE_MS - 1);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual([30_000]);
      expect(clock.stalls).toBe(1);
      expect(clock.pendingTimers).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('asks every activity source, and moves once the source is quiet and says so', async () => {
    using clock = new VirtualClock();
    let inFlight = 1;
    clock.addActivitySource(() => inFlight > 0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 5);
    await turns(10);
    expect(fired).toBe(false);
    inFlight = 0;
    clock.notify();
    await turns(10);
    expect(fired).toBe(true);
  });

  it('waits for the event loop to settle: a change within the settling turns restarts them', async () => {
    using clock = new VirtualClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 5);
    // Something real starts one turn later (a request sent after a promise chain): the clock must not have moved.
    await turns(1);
    const token = clock.busy();
    await turns(10);
    expect(fired).toBe(false);
    token.release();
    await turns(10);
    expect(fired).toBe(true);
  });

  it('forgets a cleared timer, and fires nothing once closed', async () => {
    const clock = new VirtualClock();
    let fired = 0;
    const handle = clock.setTimeout(() => (fired += 1), 5);
    clock.clearTimeout(handle);
    expect(clock.pendingTimers).toBe(0);
    clock.setTimeout(() => (fired += 1), 7);
    clock.close();
    await turns(10);
    expect(fired).toBe(0);
    expect(clock.elapsed).toBe(0);
  });
});

describe('timeoutSignal and sleep', () => {
  it('aborts with a TimeoutError on the virtual clock', async () => {
    using clock = new VirtualClock();
    const signal = timeoutSignal(clock, 30_000);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
    expect(clock.elapsed).toBe(30_000);
  });

  it('sleep rejects with the signal reason when aborted first, and its timer is gone', async () => {
    using clock = new VirtualClock();
    const controller = new AbortController();
    const token = clock.busy();
    const slept = sleep(clock, 1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
    token.release();
  });

  it('uses real timers for a clock without its own (systemClock, ManualClock)', () => {
    expect(timersOf(new ManualClock())).toBe(systemClock);
    expect(timersOf(systemClock)).toBe(systemClock);
    using clock = new VirtualClock();
    expect(timersOf(clock)).toBe(clock);
  });
});
