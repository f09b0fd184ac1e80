import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { ContainerRuntimeClient, WaitStrategy } from 'testcontainers';
import type { StartedBoxCommand, WorkerBox, WorkerBoxCommand } from '../../client/index.ts';
import { RuntimeError } from '../errors.ts';
import { HarnessContainer, requireImage } from './docker.ts';
import { NODE_LABEL, type TopologyPlan } from './plan.ts';

/** After SIGTERM, how long a command gets to end before SIGKILL (seconds, as Docker counts). */
const STOP_GRACE_S = 2;

/**
 * The worker node's box in the containers runtime: each command is a fresh container from the
 * image (default the harness's), on the worker's own network (internal: the shim, and so the
 * worker's egress, is all it reaches), with the run's labels, `--init` (signals reach the command;
 * its children are reaped), the files written in before it starts and stdout/stderr apart. What
 * the simulated worker, Claude Code and `harness up --exec` all run in.
 *
 * @example
 * const box = workerBox(docker, plan, image);
 * await using started = await box.start({ argv: ['node', 'harness/client/main.ts'], env });
 */
export function workerBox(
  docker: ContainerRuntimeClient,
  plan: TopologyPlan,
  defaultImage: string,
  creation: <T>(create: () => Promise<T>) => Promise<T> = (create) => create(),
): WorkerBox {
  return {
    // In view of the topology's close() until started (or removed): a box starting as it closes is not left.
    start: (command) => creation(() => startWorkerContainer(docker, plan, { ...command, image: command.image ?? defaultImage })),
  };
}

async function startWorkerContainer(docker: ContainerRuntimeClient, plan: TopologyPlan, command: WorkerBoxCommand & { image: string }): Promise<StartedBoxCommand> {
  if (command.argv.length === 0) throw new RuntimeError('ERR_RUNTIME_WORKER', "nothing to run in the worker's container (empty command)");
  await requireImage(docker, command.image, command.imageHint ?? 'build it with docker/build-images.sh (see docker/README.md)');
  const spec = plan.worker;
  const name = `${spec.name}-${randomBytes(3).toString('hex')}`;
  const container = new BoxContainer(command.image)
    .withName(name)
    .withCommand(command.argv)
    .withEnvironment(command.env)
    .withLabels({ ...plan.labels, [NODE_LABEL]: spec.node })
    .onNetworks([{ name: spec.network, aliases: [] }])
    .withWaitStrategy(new StartedWait());
  if (command.files?.length) container.withCopyContentToContainer(command.files.map((file) => ({ content: file.content, target: file.target, mode: 0o644 })));
  if (command.mounts?.length) container.withBindMounts(command.mounts.map((mount) => ({ source: mount.source, target: mount.target, mode: 'ro' as const })));
  const api = docker.container.dockerode;
  let id: string | undefined;
  let removed: Promise<void> | undefined;
  const remove = () => {
    removed ??= (async () => {
      const target = api.getContainer(id ?? name);
      await target.stop({ t: STOP_GRACE_S }).catch(() => {});
      await target.remove({ force: true, v: true }).catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
      });
    })();
    return removed;
  };
  try {
    id = (await container.start()).getId();
  } catch (error) {
    await remove().catch(() => {});
    throw new RuntimeError('ERR_RUNTIME_WORKER', `could not start ${command.argv[0]} in the worker's container: ${(error as Error).message}`, { cause: error });
  }
  const target = api.getContainer(id);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  // From the container's start (logs keep what was printed before this attached), to its exit.
  const logs = (await target.logs({ follow: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
  api.modem.demuxStream(logs, stdout, stderr);
  const ended = new Promise<void>((resolve) => {
    const end = () => {
      stdout.end();
      stderr.end();
      resolve();
    };
    logs.once('end', end);
    logs.once('close', end);
    logs.once('error', end);
  });
  const exited = (async () => {
    const { StatusCode } = (await target.wait()) as { StatusCode: number };
    await ended;
    return StatusCode;
  })();
  exited.catch(() => {});
  return {
    stdout,
    stderr,
    exited,
    stop: remove,
    [Symbol.asyncDispose]: remove,
  };
}

/** A HarnessContainer run with `--init`: PID 1 is docker-init, which passes signals on and reaps. */
class BoxContainer extends HarnessContainer {
  protected override async beforeContainerCreated(): Promise<void> {
    await super.beforeContainerCreated();
    this.hostConfig.Init = true;
  }
}

/** Ready once started: a box's command may end at once (and its output is read from the start). */
class StartedWait implements WaitStrategy {
  #timeoutMs = 60_000;
  async waitUntilReady(): Promise<void> {}
  withStartupTimeout(startupTimeoutMs: number): this {
    this.#timeoutMs = startupTimeoutMs;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return false;
  }
  getStartupTimeout(): number {
    return this.#timeoutMs;
  }
}
