import { HarnessError } from '../errors.ts';

export type RuntimeErrorCode = 'ERR_RUNTIME_START' | 'ERR_RUNTIME_TOKEN' | 'ERR_RUNTIME_UNKNOWN';

/** A topology that could not be brought up (a service that failed to start, a token that could not be minted). */
export class RuntimeError extends HarnessError<RuntimeErrorCode> {
  constructor(code: RuntimeErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'RuntimeError';
  }
}
