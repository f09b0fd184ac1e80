import type { Topology } from '../../topology/index.ts';
import { RuntimeError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { ContainersStartOptions, StartedContainersTopology } from './start.ts';

/** The containers runtime: a Runtime whose topologies also say where each node runs. */
export interface ContainersRuntime extends Runtime {
  start(topology: Topology, options?: ContainersStartOptions): Promise<StartedContainersTopology>;
}

/**
 * Every node in its own container (testcontainers), each on its own Docker network shared only
 * with the network shim's container: a node's one way to another is through the shim, by Consul
 * names that resolve inside the containers. Needs a Docker engine and the harness image
 * (docker/build-images.sh); testcontainers loads on the first start, so the in-process path never needs it.
 *
 * @example
 * await using running = await containersRuntime.start(scenario.topology);
 * const report = await running.runWorker();
 */
export const containersRuntime: ContainersRuntime = {
  name: 'containers',
  async start(topology: Topology, options: ContainersStartOptions = {}): Promise<StartedContainersTopology> {
    let start: typeof import('./start.ts').startContainersTopology;
    try {
      ({ startContainersTopology: start } = await import('./start.ts'));
    } catch (error) {
      throw new RuntimeError('ERR_RUNTIME_DOCKER', `the containers runtime cannot load (${(error as Error).message}); it needs the testcontainers package (npm install)`, {
        cause: error,
      });
    }
    return start(topology, options);
  },
};
