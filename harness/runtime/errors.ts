import { HarnessError } from '../../common/index.ts';

export type RuntimeErrorCode =
  | 'ERR_RUNTIME_START'
  | 'ERR_RUNTIME_TOKEN'
  | 'ERR_RUNTIME_UNKNOWN'
  /** A scenario that brings its own server (`image`/`command`): only `--runtime containers` runs it. */
  | 'ERR_RUNTIME_NEEDS_CONTAINERS'
  /** The containers runtime cannot work here: no Docker engine, no image, no testcontainers. */
  | 'ERR_RUNTIME_DOCKER'
  /** The worker container did not report (it crashed, or its input was refused). */
  | 'ERR_RUNTIME_WORKER'
  /** This runtime cannot run the client asked for as the worker (in containers: a client without runInBox). */
  | 'ERR_RUNTIME_CLIENT'
  /** A live update this runtime cannot apply (a node added or removed, a service renamed, a port to publish). */
  | 'ERR_RUNTIME_UPDATE';

/** A topology that could not be brought up (a service that failed to start, a token that could not be minted). */
export class RuntimeError extends HarnessError<RuntimeErrorCode> {
  constructor(code: RuntimeErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'RuntimeError';
  }
}
