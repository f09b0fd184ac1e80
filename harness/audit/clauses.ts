import type { Clause } from './finding.ts';

// Quoted from the MCP specification, revision 2025-11-25 (modelcontextprotocol/modelcontextprotocol,
// docs/specification/2025-11-25/basic/{authorization,transports}.mdx, checked at commit b0f60ba),
// and from the RFCs it builds on. `[...]` marks words left out; Markdown is dropped and the Error
// Handling table row is written as a sentence.
const AUTHZ = 'https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization';
const TRANSPORTS = 'https://modelcontextprotocol.io/specification/2025-11-25/basic/transports';
const MCP = 'MCP 2025-11-25';

/** The clauses the audit's checks cite, by key. */
export const CLAUSES = {
  tokenValidation: {
    spec: MCP,
    section: 'Authorization > Access Token Usage > Token Handling',
    text: 'MCP servers, acting in their role as an OAuth 2.1 resource server, MUST validate access tokens as described in OAuth 2.1 Section 5.2. [...] Invalid or expired tokens MUST receive a HTTP 401 response.',
    url: `${AUTHZ}#token-handling`,
  },
  audience: {
    spec: MCP,
    section: 'Authorization > Access Token Usage > Token Handling',
    text: 'MCP servers MUST validate that access tokens were issued specifically for them as the intended audience, according to RFC 8707 Section 2.',
    url: `${AUTHZ}#token-handling`,
  },
  passthrough: {
    spec: MCP,
    section: 'Authorization > Access Token Usage > Token Handling',
    text: 'MCP servers MUST NOT accept or transit any other tokens.',
    url: `${AUTHZ}#token-handling`,
  },
  unauthorized: {
    spec: MCP,
    section: 'Authorization > Error Handling',
    text: 'Servers MUST return appropriate HTTP status codes for authorization errors: 401 Unauthorized, Authorization required or token invalid.',
    url: `${AUTHZ}#error-handling`,
  },
  prm: {
    spec: MCP,
    section: 'Authorization > Authorization Server Discovery > Authorization Server Location',
    text: 'MCP servers MUST implement the OAuth 2.0 Protected Resource Metadata (RFC9728) specification to indicate the locations of authorization servers. The Protected Resource Metadata document returned by the MCP server MUST include the authorization_servers field containing at least one authorization server.',
    url: `${AUTHZ}#authorization-server-location`,
  },
  prmDiscovery: {
    spec: MCP,
    section: 'Authorization > Authorization Server Discovery > Protected Resource Metadata Discovery Requirements',
    text: 'MCP servers MUST implement one of the following discovery mechanisms [...]: 1. WWW-Authenticate Header: Include the resource metadata URL in the WWW-Authenticate HTTP header under resource_metadata when returning 401 Unauthorized responses [...] 2. Well-Known URI: [...] At the path of the server\'s MCP endpoint [...] At the root.',
    url: `${AUTHZ}#protected-resource-metadata-discovery-requirements`,
  },
  challengeScope: {
    spec: MCP,
    section: 'Authorization > Authorization Server Discovery > Protected Resource Metadata Discovery Requirements',
    text: 'MCP servers SHOULD include a scope parameter in the WWW-Authenticate header as defined in RFC 6750 Section 3 to indicate the scopes required for accessing the resource.',
    url: `${AUTHZ}#protected-resource-metadata-discovery-requirements`,
  },
  insufficientScope: {
    spec: MCP,
    section: 'Authorization > Error Handling > Scope Challenge Handling > Runtime Insufficient Scope Errors',
    text: 'When a client makes a request with an access token with insufficient scope during runtime operations, the server SHOULD respond with: HTTP 403 Forbidden status code [...] WWW-Authenticate header with the Bearer scheme and additional parameters: error="insufficient_scope" [...] scope="required_scope1 required_scope2" [...] resource_metadata.',
    url: `${AUTHZ}#runtime-insufficient-scope-errors`,
  },
  challenge: {
    spec: 'RFC 6750',
    section: '3. The WWW-Authenticate Response Header Field',
    text: 'If the protected resource request does not include authentication credentials or does not contain an access token that enables access to the protected resource, the resource server MUST include the HTTP "WWW-Authenticate" response header field.',
    url: 'https://datatracker.ietf.org/doc/html/rfc6750#section-3',
  },
  prmResource: {
    spec: 'RFC 9728',
    section: '3.3. Protected Resource Metadata Validation',
    text: 'The resource value returned MUST be identical to the protected resource\'s resource identifier value into which the well-known URI path suffix was inserted to create the URL used to retrieve the metadata.',
    url: 'https://datatracker.ietf.org/doc/html/rfc9728#section-3.3',
  },
  asMetadata: {
    spec: MCP,
    section: 'Authorization > Overview',
    text: 'MCP authorization servers MUST provide at least one of the following discovery mechanisms: OAuth 2.0 Authorization Server Metadata (RFC8414), OpenID Connect Discovery 1.0.',
    url: `${AUTHZ}#overview`,
  },
  asIssuer: {
    spec: 'RFC 8414',
    section: '3.3. Authorization Server Metadata Validation',
    text: 'The "issuer" value returned MUST be identical to the authorization server\'s issuer identifier value into which the well-known URI string was inserted to create the URL used to retrieve the metadata.',
    url: 'https://datatracker.ietf.org/doc/html/rfc8414#section-3.3',
  },
  origin: {
    spec: MCP,
    section: 'Transports > Streamable HTTP > Security Warning',
    text: 'Servers MUST validate the Origin header on all incoming connections to prevent DNS rebinding attacks. If the Origin header is present and invalid, servers MUST respond with HTTP 403 Forbidden.',
    url: `${TRANSPORTS}#security-warning`,
  },
  networkLeastPrivilege: {
    spec: 'Nebula firewall',
    section: 'firewall.inbound / firewall.outbound',
    text: 'Rules allow a flow when a peer\'s certificate has all the groups a rule names; `host: any` or `group: any` matches every peer of the overlay.',
    url: 'https://nebula.defined.net/docs/config/firewall/',
  },
} satisfies Record<string, Clause>;
