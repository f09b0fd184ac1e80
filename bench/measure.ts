import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

/** What every measured child process reports besides its own figures. */
export interface ProcessFigures {
  /** Peak resident set size of the child over its whole life, in MB (getrusage's high-water mark). */
  peakRssMb: number;
  /** CPU time of the whole process (all threads), in ms. */
  cpuMs: number;
  /** CPU time of the main (JavaScript) thread, in ms. */
  mainThreadCpuMs: number;
  heap: HeapFigures;
}

/** V8's heap during a measurement: what its peak RSS is made of. */
export interface HeapFigures {
  /** The largest the young generation (new space) and the old space grew to, in MB (sampled every 50 ms). */
  youngPeakMb: number;
  oldPeakMb: number;
  /** Garbage collections: scavenges, and mark-compacts (the old space's). */
  minorGcs: number;
  majorGcs: number;
  /** Their pauses of the JavaScript thread, summed. */
  gcPauseMs: number;
}

/** What the parent adds: the child's life from spawn to exit (Node start and imports included). */
export interface ChildFigures extends ProcessFigures {
  processWallMs: number;
}

/** The machine a run happened on, for the results and the README. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the bench started: other work on the machine skews every figure. */
  loadAverage: number[];
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.ts');
/** Marks the one line of a child's stdout that carries its result. */
export const RESULT_MARK = '@@bench-result ';

export function machine(): Machine {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((load) => round(load, 2)),
  };
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Starts watching this process's heap; the returned function stops and reports. In a child, before
 * the measurement.
 *
 * @example
 * const heap = watchHeap();
 * await measure();
 * const figures = processFigures(heap());
 */
export function watchHeap(): () => HeapFigures {
  const figures: HeapFigures = { youngPeakMb: 0, oldPeakMb: 0, minorGcs: 0, majorGcs: 0, gcPauseMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind } = (entry as unknown as { detail: { kind: number } }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) figures.minorGcs++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) figures.majorGcs++;
      figures.gcPauseMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const sample = () => {
    for (const space of v8.getHeapSpaceStatistics()) {
      const mb = space.space_size / 2 ** 20;
      if (space.space_name === 'new_space') figures.youngPeakMb = Math.max(figures.youngPeakMb, mb);
      if (space.space_name === 'old_space') figures.oldPeakMb = Math.max(figures.oldPeakMb, mb);
    }
  };
  const timer = setInterval(sample, 50).unref();
  return () => {
    clearInterval(timer);
    sample();
    observer.disconnect();
    return { ...figures, youngPeakMb: round(figures.youngPeakMb), oldPeakMb: round(figures.oldPeakMb), gcPauseMs: round(figures.gcPauseMs) };
  };
}

/** The figures of this process so far, with its heap's: call at the end of a measurement in a child. */
export function processFigures(heap: HeapFigures): ProcessFigures {
  const usage = process.resourceUsage();
  const main = process.threadCpuUsage();
  return {
    peakRssMb: round(usage.maxRSS / 1024),
    cpuMs: round((usage.userCPUTime + usage.systemCPUTime) / 1000),
    mainThreadCpuMs: round((main.user + main.system) / 1000),
    heap,
  };
}

/**
 * Runs one measurement (`bench/child.ts <part> <args>`) in a fresh Node process, so that its peak
 * RSS and CPU are its own and no warm cache of an earlier part helps it. The child is killed when it
 * outlives `limitMs`. `nodeFlags` are added to this process's own (e.g. V8 heap limits).
 */
export async function inChild<T>(part: string, args: unknown, limitMs: number, nodeFlags: string[] = []): Promise<T & ChildFigures> {
  const spawned = performance.now();
  const child = spawn(process.execPath, [...process.execArgv, ...nodeFlags, CHILD, part, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (exit) => resolve(exit)));
  clearTimeout(timer);
  const line = stdout.split('\n').find((text) => text.startsWith(RESULT_MARK));
  if (code !== 0 || !line) {
    const why = code === null ? `killed after ${limitMs} ms` : `exit ${code}`;
    throw new Error(`bench part ${part} ${JSON.stringify(args)} failed (${why}):\n${stderr.slice(-2000)}`);
  }
  return { ...(JSON.parse(line.slice(RESULT_MARK.length)) as T & ProcessFigures), processWallMs: round(performance.now() - spawned) };
}
