import { HarnessError } from '../../common/index.ts';

export type IncidentErrorCode =
  /** A `NAME=VALUE` flag without its `=`, or with an empty side. */
  | 'ERR_INPUT_FLAG'
  /** A flag names a node the base topology does not have. */
  | 'ERR_INPUT_NODE'
  /** A user file that cannot be read or parsed. */
  | 'ERR_INPUT_READ'
  /** A Nebula config with no `firewall:` section, or one Nebula would refuse. */
  | 'ERR_INPUT_NEBULA'
  /** Groups that are neither a list, a pod with the `slack.com/nebula.groups` annotation, nor `nebula-cert print -json` output. */
  | 'ERR_INPUT_GROUPS'
  /** A `--token` kind the auth server does not mint. */
  | 'ERR_INPUT_TOKEN'
  /** A `--reported` text that is not an `mcp_servers` list. */
  | 'ERR_REPORTED_INVALID'
  /** `harness new incident` would overwrite a step that exists. */
  | 'ERR_INCIDENT_EXISTS';

/** The user's own files or flags, unusable as given. The message names the file, line and field. */
export class IncidentError extends HarnessError<IncidentErrorCode> {
  constructor(code: IncidentErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'IncidentError';
  }
}
