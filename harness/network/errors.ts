import { HarnessError } from '../../common/index.ts';

export type NetworkErrorCode =
  /** A `firewall:` section Nebula itself would refuse to load. */
  | 'ERR_FIREWALL_CONFIG'
  /** Nodes or services that contradict each other (duplicate names, IPs, consul names). */
  | 'ERR_NETWORK_CONFIG'
  /** A node name that is not part of the network. */
  | 'ERR_UNKNOWN_NODE';

export interface NetworkErrorOptions extends ErrorOptions {
  /** Where in the input the problem is, e.g. `['outbound', 0, 'port']` inside a firewall section. */
  path?: (string | number)[];
}

/**
 * An error of the network area (rules, names, egress).
 *
 * @example
 * throw new NetworkError('ERR_FIREWALL_CONFIG', 'firewall.outbound rule #0; port was not a number; `abc`');
 */
export class NetworkError extends HarnessError<NetworkErrorCode> {
  readonly path: (string | number)[] | undefined;

  constructor(code: NetworkErrorCode, message: string, options: NetworkErrorOptions = {}) {
    super(code, message, options);
    this.name = 'NetworkError';
    this.path = options.path;
  }
}
