import { HarnessError } from '../../../common/index.ts';

export type NebulaLabErrorCode =
  /** This machine cannot run real Nebula (not root, no /dev/net/tun, no binary, no `ip netns`). */
  | 'ERR_NEBULA_UNAVAILABLE'
  /** A helper command (`ip`, `nebula-cert`) exited non-zero. */
  | 'ERR_NEBULA_COMMAND'
  /** A nebula process or namespace agent exited or never became ready. */
  | 'ERR_NEBULA_START'
  /** The two nebula nodes did not complete a handshake before the deadline. */
  | 'ERR_NEBULA_HANDSHAKE_TIMEOUT'
  /** Nebula refused or did not confirm a firewall reload after SIGHUP. */
  | 'ERR_NEBULA_RELOAD'
  /** A probe neither connected nor left a firewall drop in nebula's log: no verdict can be read. */
  | 'ERR_NEBULA_PROBE_INCONCLUSIVE'
  /** A flow case that the lab cannot set up (bad IP, same IP twice, unknown protocol). */
  | 'ERR_NEBULA_CASE_INVALID'
  /** The lab was used after it was closed. */
  | 'ERR_NEBULA_CLOSED';

/** Something went wrong while driving real Nebula; `code` says what. */
export class NebulaLabError extends HarnessError<NebulaLabErrorCode> {
  constructor(code: NebulaLabErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'NebulaLabError';
  }
}
