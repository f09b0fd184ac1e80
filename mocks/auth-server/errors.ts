import { HarnessError } from '../../common/index.ts';

/** Why the auth-server mock refused to do something it was asked to do. */
export type AuthServerErrorCode =
  /** `startAuthServer` options are out of range (port, ttl, slowMs, issuer, clients). */
  | 'ERR_AUTH_SERVER_OPTIONS'
  /** A token could not be minted: missing audience for `with-audience`, bad options. */
  | 'ERR_AUTH_SERVER_MINT'
  /** A token kind that is not in TOKEN_KINDS (mint, describeTokenKind). */
  | 'ERR_AUTH_SERVER_TOKEN_KIND'
  /** `retireKey` named a kid that is not (or no longer) in the key set. */
  | 'ERR_AUTH_SERVER_UNKNOWN_KID'
  /** `retireKey` would leave the server without a signing key. */
  | 'ERR_AUTH_SERVER_LAST_KEY'
  /** `setJwksFault` got something that is not a JWKS fault mode (or null). */
  | 'ERR_AUTH_SERVER_JWKS_FAULT'
  /** A listener could not be (re)opened, e.g. the JWKS port was taken while it was closed. */
  | 'ERR_AUTH_SERVER_LISTEN'
  /** The server was asked to change after `close()`. */
  | 'ERR_AUTH_SERVER_CLOSED'
  /** An admin API request body is not what the endpoint takes. */
  | 'ERR_AUTH_SERVER_ADMIN_REQUEST';

/**
 * Raised by the auth-server mock; tests assert `code`.
 *
 * @example
 * await expect(server.mint('with-audience')).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_MINT' });
 */
export class AuthServerError extends HarnessError<AuthServerErrorCode> {
  constructor(code: AuthServerErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'AuthServerError';
  }
}
