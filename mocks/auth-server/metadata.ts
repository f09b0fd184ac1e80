/** Where the server's endpoints are, as announced by its metadata documents. */
export interface AuthServerEndpoints {
  issuer: string;
  /** Base URL of the main listener. */
  url: string;
  tokenUrl: string;
  jwksUrl: string;
  /** Whether Client ID Metadata Documents are accepted (`client_id_metadata_document_supported`). */
  clientIdMetadataDocuments: boolean;
  /**
   * With dynamic client registration on: the URL clients reach the server at (its issuer, a name
   * behind the network shim). The metadata's endpoints are then announced under it, since an
   * interactive client follows them; the loopback `url` is only reachable from this process.
   */
  registrationBase?: string;
}

/**
 * RFC 8414 authorization server metadata: client_credentials, and the authorization code grant
 * with PKCE (S256) and automatic consent for public clients, which may use Client ID Metadata
 * Documents (`client_id_metadata_document_supported`, MCP 2025-11-25 Client Registration Approaches).
 */
export function oauthAuthorizationServerMetadata(endpoints: AuthServerEndpoints): Record<string, unknown> {
  const base = {
    issuer: endpoints.issuer,
    authorization_endpoint: `${endpoints.url}/oauth/authorize`,
    token_endpoint: endpoints.tokenUrl,
    jwks_uri: endpoints.jwksUrl,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    ...(endpoints.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
    authorization_response_iss_parameter_supported: true,
  };
  const at = endpoints.registrationBase;
  if (!at) return base;
  // With registration a client may be an interactive one (Claude Code's /mcp login): it follows
  // the endpoints, so they are announced where it reaches them.
  return {
    ...base,
    authorization_endpoint: `${at}/oauth/authorize`,
    token_endpoint: `${at}/oauth/token`,
    jwks_uri: `${at}/.well-known/jwks.json`,
    registration_endpoint: `${at}/oauth/register`,
  };
}

/** OpenID Connect Discovery 1.0 provider metadata: the RFC 8414 fields plus the OIDC-required ones. */
export function openIdConfiguration(endpoints: AuthServerEndpoints): Record<string, unknown> {
  return {
    ...oauthAuthorizationServerMetadata(endpoints),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope'],
  };
}
