import { HarnessError } from '../../common/index.ts';

export type AuditErrorCode =
  /** The topology has no worker, or the worker lists no HTTP MCP server to audit. */
  | 'ERR_AUDIT_NOTHING_TO_AUDIT'
  /** The runtime cannot give the audit a way in (only in-process can, for now). */
  | 'ERR_AUDIT_RUNTIME'
  /** The token battery needs a node with `run: auth-server` to mint from. */
  | 'ERR_AUDIT_NO_AUTH_SERVER'
  /** A bad `--fail-on` or format option. */
  | 'ERR_AUDIT_OPTIONS';

/** Why an audit could not run (as opposed to what it found). */
export class AuditError extends HarnessError<AuditErrorCode> {
  constructor(code: AuditErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'AuditError';
  }
}
