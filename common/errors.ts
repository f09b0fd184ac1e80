/**
 * Base of every error the project raises on purpose, in the harness and in the simulated services.
 * Each area (topology, network, client, auth-server, ...) has its own `errors.ts` with a union of
 * `ERR_...` codes; tests assert `code`, never the message.
 *
 * @example
 * throw new HarnessError('ERR_SCENARIO_INVALID', 'scenarios/a.yaml:3: expect.grafana: ...');
 */
export class HarnessError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HarnessError';
    this.code = code;
  }
}

/** True when `error` is a HarnessError, optionally with the given code. */
export function isHarnessError(error: unknown, code?: string): error is HarnessError {
  return error instanceof HarnessError && (code === undefined || error.code === code);
}
