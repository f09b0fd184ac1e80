import { discoverOAuthServerInfo } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Fetch } from '../../common/index.ts';

export interface NeedsAuthInput {
  /** The status the server refused `initialize` with. */
  status: 401 | 403;
  /** The MCP server's URL (after expansion). */
  serverUrl: string;
  wwwAuthenticate: string | undefined;
  /** Whether the config has an `Authorization` header (any letter case, whatever it expands to). */
  authorizationConfigured: boolean;
  /** The worker's fetch (through its egress), with the server's deadline. */
  fetch: Fetch;
}

/**
 * Whether Claude Code would show a refused server as `needs-auth` (waiting for /mcp login) rather
 * than `failed`. Measured on Claude Code 2.1.332 (test/differential/direct.test.ts):
 * - a configured `Authorization` header turns OAuth off: `failed` ("OAuth fallback is disabled
 *   when headers.Authorization is set"), even when it expands to nothing;
 * - without one, a 403 is `needs-auth`;
 * - without one, a 401 is `needs-auth` only when OAuth discovery (RFC 9728 protected resource
 *   metadata, from `resource_metadata` or the well-known URLs, else the server's origin as
 *   authorization server; then RFC 8414 / OIDC metadata) finds a `registration_endpoint`
 *   (dynamic client registration): without one Claude Code says "Incompatible auth server: does
 *   not support dynamic client registration" and the server is `failed`.
 * Discovery is the MCP SDK's own (`discoverOAuthServerInfo`), the code Claude Code is built on.
 *
 * @example
 * await claudeCodeNeedsAuth({ status: 401, serverUrl, wwwAuthenticate, authorizationConfigured: false, fetch });
 */
export async function claudeCodeNeedsAuth(input: NeedsAuthInput): Promise<boolean> {
  if (input.authorizationConfigured) return false;
  if (input.status === 403) return true;
  const resourceMetadataUrl = resourceMetadataOf(input.wwwAuthenticate);
  try {
    const info = await discoverOAuthServerInfo(input.serverUrl, {
      ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
      fetchFn: input.fetch as never,
    });
    return typeof info.authorizationServerMetadata?.registration_endpoint === 'string';
  } catch {
    // No authorization server metadata anywhere: Claude Code fails such a server.
    return false;
  }
}

function resourceMetadataOf(header: string | undefined): URL | undefined {
  const match = /(?:^|[\s,])resource_metadata\s*=\s*"?([^",\s]+)"?/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  try {
    return new URL(match[1]);
  } catch {
    return undefined;
  }
}
