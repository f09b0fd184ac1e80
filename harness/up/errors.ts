import { HarnessError } from '../../common/index.ts';

export type UpErrorCode =
  /** The target names no scenario or topology file, or names several (a matrix family). */
  | 'ERR_UP_TARGET'
  /** `--exec` without a command, or a command that could not be started. */
  | 'ERR_UP_EXEC'
  /** A live edit that could not be applied (the file no longer loads, or changed what cannot change live). */
  | 'ERR_UP_RELOAD';

/** A `harness up` that could not do what was asked. */
export class UpError extends HarnessError<UpErrorCode> {
  constructor(code: UpErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'UpError';
  }
}
