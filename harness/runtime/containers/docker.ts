import {
  GenericContainer,
  getContainerRuntimeClient,
  getReaper,
  ImageName,
  LABEL_TESTCONTAINERS_SESSION_ID,
  type BoundPorts,
  type ContainerRuntimeClient,
  type WaitStrategy,
} from 'testcontainers';
import { RuntimeError } from '../errors.ts';

/** testcontainers' reaper image; Ryuk is used only when this image is already local (no registry here). */
const RYUK_IMAGE = 'testcontainers/ryuk:0.14.0';

let client: Promise<ContainerRuntimeClient> | undefined;

/**
 * The Docker client, once per process. Before testcontainers first looks for its reaper, decide
 * whether Ryuk can run: only when its image is local (and the user did not say otherwise);
 * otherwise the harness's own clean-up by label is all there is.
 */
export function dockerClient(): Promise<ContainerRuntimeClient> {
  client ??= (async () => {
    // A local engine: published ports bind 127.0.0.1 (HarnessContainer), so that is where testcontainers
    // must look for them too; left to itself it may pick a bridge gateway address on some machines.
    const local = !process.env.DOCKER_HOST || process.env.DOCKER_HOST.startsWith('unix://');
    if (local) process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
    let found: ContainerRuntimeClient;
    try {
      found = await getContainerRuntimeClient();
    } catch (error) {
      client = undefined;
      throw new RuntimeError('ERR_RUNTIME_DOCKER', `no Docker engine answers (${(error as Error).message}); the containers runtime needs one (see docker/README.md)`, {
        cause: error,
      });
    }
    if (process.env.TESTCONTAINERS_RYUK_DISABLED === undefined) {
      const ryuk = process.env.RYUK_CONTAINER_IMAGE ?? RYUK_IMAGE;
      const local = await found.image.exists(ImageName.fromString(ryuk)).catch(() => false);
      process.env.TESTCONTAINERS_RYUK_DISABLED = local ? 'false' : 'true';
    }
    return found;
  })();
  return client;
}

/** Whether Ryuk reaps this process's containers (decided by dockerClient). */
export function ryukEnabled(): boolean {
  return process.env.TESTCONTAINERS_RYUK_DISABLED !== 'true';
}

/** testcontainers' session label for things it does not create itself (our networks), so Ryuk reaps them too. */
export async function reaperLabels(docker: ContainerRuntimeClient): Promise<Record<string, string>> {
  const reaper = await getReaper(docker);
  return { [LABEL_TESTCONTAINERS_SESSION_ID]: reaper.sessionId };
}

export async function requireImage(docker: ContainerRuntimeClient, image: string, hint: string): Promise<void> {
  if (!(await docker.image.exists(ImageName.fromString(image)))) {
    throw new RuntimeError('ERR_RUNTIME_DOCKER', `image ${image} is not on this Docker engine: ${hint}`);
  }
}

/**
 * A GenericContainer on several networks from the start (testcontainers attaches one): created on the
 * first, connected to the others before it starts, with aliases on each. Published ports bind 127.0.0.1 only.
 */
export class HarnessContainer extends GenericContainer {
  #networks: { name: string; aliases: string[] }[] = [];

  onNetworks(networks: { name: string; aliases: string[] }[]): this {
    const [first] = networks;
    if (!first) return this;
    this.#networks = networks;
    this.withNetworkMode(first.name);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [first.name]: { Aliases: first.aliases } } };
    return this;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as { HostIp?: string }[][]) {
      for (const binding of bindings) binding.HostIp = '127.0.0.1';
    }
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    const docker = await dockerClient();
    for (const network of this.#networks.slice(1)) {
      await docker.container.dockerode.getNetwork(network.name).connect({ Container: containerId, EndpointConfig: { Aliases: network.aliases } });
    }
  }
}

/**
 * Ready once `path` on the container's `port` answers HTTP at all (any status), asked through the
 * port published on 127.0.0.1: testcontainers' own HTTP wait would ask its idea of the Docker host
 * (on some machines a bridge address), and polls once a second.
 */
export class HttpAnswerWait implements WaitStrategy {
  readonly #path: string;
  readonly #port: number;
  #timeoutMs = 60_000;
  #timeoutSet = false;

  constructor(path: string, port: number) {
    this.#path = path;
    this.#port = port;
  }

  async waitUntilReady(container: { inspect(): Promise<{ State: { Running: boolean; ExitCode: number } }> }, boundPorts: BoundPorts): Promise<void> {
    const url = `http://127.0.0.1:${boundPorts.getBinding(this.#port)}${this.#path}`;
    const deadline = performance.now() + this.#timeoutMs;
    // Bounded: one try per 100 ms until the deadline; each try is an awaited request, not a sleep for readiness.
    while (performance.now() < deadline) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        await response.arrayBuffer();
        return;
      } catch {
        const state = (await container.inspect()).State;
        if (!state.Running) throw new Error(`it exited (code ${state.ExitCode}) before ${this.#path} answered`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.#path} on port ${this.#port} did not answer within ${this.#timeoutMs} ms`);
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.#timeoutMs = startupTimeoutMs;
    this.#timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.#timeoutSet;
  }

  getStartupTimeout(): number {
    return this.#timeoutMs;
  }
}

/** Removes every container, then every network, with all of `labels` (`key=value`); returns how many. */
export async function removeLabelled(docker: ContainerRuntimeClient, labels: string[]): Promise<{ containers: number; networks: number }> {
  const api = docker.container.dockerode;
  const removed = { containers: 0, networks: 0 };
  // A container started while this runs (a worker's box, a service's restart) keeps its network
  // busy ("active endpoints"): the next round removes it, then the network. Bounded.
  for (let round = 1; ; round++) {
    const containers = await api.listContainers({ all: true, filters: { label: labels } });
    await Promise.all(containers.map((info) => api.getContainer(info.Id).remove({ force: true, v: true }).catch(ignoreGone)));
    removed.containers += containers.length;
    const networks = await api.listNetworks({ filters: { label: labels } });
    const failed = (
      await Promise.all(networks.map((info) => api.getNetwork(info.Id).remove().then(() => undefined, (error: unknown) => (isGone(error) ? undefined : error))))
    ).filter((error) => error !== undefined);
    removed.networks += networks.length - failed.length;
    if (failed.length === 0) return removed;
    if (round === REMOVE_ROUNDS) throw failed[0];
    await new Promise((resolve) => setTimeout(resolve, 250 * round));
  }
}

/** Rounds of removeLabelled before a network that stays busy is an error. */
const REMOVE_ROUNDS = 5;

function isGone(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  return status === 404;
}

function ignoreGone(error: unknown): void {
  // Already gone (404), or being removed by a concurrent clean-up (409): either way, not there for long.
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== 404 && status !== 409) throw error;
}
