import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { describeFlowVerdict, serviceFlows } from '../network/index.ts';
import type { TopologyUpdate } from '../runtime/index.ts';
import type { Topology } from '../topology/index.ts';

/** A flow between two nodes of a topology whose verdict an edit changed. */
export interface VerdictChange {
  /** `source -> node:port`, e.g. `claude-worker -> monitoring-mcp:8000`. */
  flow: string;
  before: string;
  after: string;
  /** Why the flow has its new verdict: the deciding rule, or what no rule matched. */
  reason: string;
}

/** What `harness up` reports after applying an edit of the scenario file. */
export interface UpEdit extends TopologyUpdate {
  file: string;
  changes: VerdictChange[];
}

/**
 * The verdict of every flow a node could open to another node's service, by `source -> node:port`.
 *
 * @example
 * flowVerdicts(topology).get('claude-worker -> monitoring-mcp:8000'); // { verdict: 'drop', reason: '...' }
 */
export function flowVerdicts(topology: Topology): Map<string, { verdict: string; reason: string }> {
  return new Map(
    serviceFlows(topology.nodes).map(({ from, to, port, verdict }) => [
      `${from.name} -> ${to.name}:${port}`,
      { verdict: verdict.verdict, reason: describeFlowVerdict(verdict) },
    ]),
  );
}

/**
 * The flows whose verdict differs between two versions of a topology.
 *
 * @example
 * verdictChanges(step0.topology, step1.topology); // [{ flow: 'claude-worker -> monitoring-mcp:8000', before: 'drop', after: 'allow', reason }]
 */
export function verdictChanges(before: Topology, after: Topology): VerdictChange[] {
  const old = flowVerdicts(before);
  const changes: VerdictChange[] = [];
  for (const [flow, now] of flowVerdicts(after)) {
    const was = old.get(flow);
    if (was && was.verdict !== now.verdict) changes.push({ flow, before: was.verdict, after: now.verdict, reason: now.reason });
  }
  return changes;
}

/**
 * Calls `onChange` once per settled change of any of `files()` (editors write, rename and write
 * again: changes within `settleMs` count once; a change arriving while one is handled waits for
 * it). `files` is asked again after each change, so a new `extends` is watched from then on.
 * Returns the function that stops watching.
 *
 * @example
 * const stop = watchFiles(() => up.scenario.sources, (file) => up.reload());
 */
export function watchFiles(files: () => readonly string[], onChange: (file: string) => Promise<void>, settleMs = 150): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const watchers = new Map<string, FSWatcher>();
  const sync = () => {
    const wanted = new Map<string, Set<string>>();
    for (const file of files()) {
      const names = wanted.get(path.dirname(file)) ?? new Set<string>();
      wanted.set(path.dirname(file), names.add(path.basename(file)));
    }
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      watchers.get(dir)?.close();
      // The folder, not the file: an editor that saves by renaming replaces the file the watch was on.
      const watcher = watch(dir, (_event, changed) => {
        if (changed === null || !names.has(changed)) return;
        clearTimeout(timer);
        const file = path.join(dir, changed);
        timer = setTimeout(() => {
          running = running.then(() => onChange(file)).catch(() => {}).then(sync);
        }, settleMs);
      });
      watcher.on('error', () => {});
      watchers.set(dir, watcher);
    }
  };
  sync();
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}

/**
 * An applied edit as `harness up` prints it.
 *
 * @example
 * formatEdit(edit); // "harness: 0-as-reported.yaml changed: network claude-worker; restarted none\n  claude-worker -> monitoring-mcp:8000  drop -> allow  (...)"
 */
export function formatEdit(edit: UpEdit): string {
  const lines = [
    `harness: ${path.basename(edit.file)} changed, applied: network ${edit.network.join(', ') || 'unchanged'}; restarted ${edit.restarted.join(', ') || 'none'}${edit.worker ? "; the worker's config changed (files rewritten)" : ''}`,
  ];
  if (edit.changes.length === 0) lines.push('  no flow changed its verdict');
  for (const change of edit.changes) lines.push(`  ${change.flow}  ${change.before} -> ${change.after}  (${change.reason})`);
  return `${lines.join('\n')}\n`;
}
