import { HarnessError } from '../../common/index.ts';

/**
 * Codes the simulated worker raises. A server that fails to connect is never an error: it is a
 * `failed` entry in the WorkerReport. Errors are for bad input only.
 */
export type ClientErrorCode =
  /** agent_config.yaml / `{"mcpServers": ...}` could not be read. */
  | 'ERR_WORKER_CONFIG'
  /** settings.json could not be read. */
  | 'ERR_WORKER_SETTINGS'
  /** A function of this module was called with arguments it cannot work with. */
  | 'ERR_CLIENT_ARGUMENT'
  /** No Claude Code binary where the harness looked (the pinned npm package, --claude-bin, HARNESS_CLAUDE_BIN). */
  | 'ERR_CLAUDE_MISSING'
  /** Claude Code ran but printed no init line (it crashed, refused its arguments, or took too long). */
  | 'ERR_CLAUDE_NO_INIT'
  /** Claude Code cannot run in the worker's container (the image lacks it, or a user's binary does not run there). */
  | 'ERR_CLAUDE_CONTAINER'
  /** A command run in the worker's box (container) ended, or ran out of time, without printing what its client waits for. */
  | 'ERR_CLIENT_BOX';

/** Where in a user's file the problem is (1-based line and column). */
export interface ClientErrorLocation {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the offending field, e.g. `mcp_servers.prometheus.headers.Authorization`. */
  field?: string;
}

/**
 * An error of the client area, with the file position when it is about a user's file.
 *
 * @example
 * try { parseWorkerConfig(text, { file: 'agent_config.yaml' }); }
 * catch (e) { if (e instanceof ClientError) console.error(e.code, e.location?.line, e.location?.field); }
 */
export class ClientError extends HarnessError<ClientErrorCode> {
  readonly location: ClientErrorLocation | undefined;

  constructor(code: ClientErrorCode, message: string, location?: ClientErrorLocation, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'ClientError';
    this.location = location;
  }
}
