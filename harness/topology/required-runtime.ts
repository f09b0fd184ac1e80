import type { Topology } from './topology.ts';

/** The runtime a scenario needs: `inprocess` (the default) or, for one that brings its own server, `containers`. */
export type RequiredRuntime = 'inprocess' | 'containers';

/**
 * Which runtime can run a topology: one with a node that brings its own server (`image`/`command`)
 * runs only in containers; the in-process runtime skips it. The containers runtime runs every topology.
 *
 * @example
 * requiredRuntime(scenario.topology); // 'inprocess'
 */
export function requiredRuntime(topology: Topology): RequiredRuntime {
  return topology.nodes.some((node) => node.container) ? 'containers' : 'inprocess';
}
