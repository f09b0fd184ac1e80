import type { MintOptions, TokenKind } from '../../mocks/auth-server/index.ts';
import type { Router } from './exchange.ts';

/** Mints a token of `kind` from the topology's auth server. */
export type Minter = (kind: TokenKind, options?: MintOptions) => Promise<string>;

/** One MCP server as the worker lists it, and what the audit takes as its identity. */
export interface ServerUnderAudit {
  /** The worker's name for it (`prometheus`). */
  name: string;
  /** Its URL as the worker expands it. */
  url: string;
  /** Its own audience (RFC 8707 resource): what a valid token for it carries. */
  audience: string;
  /** Scopes to put in valid tokens (space-separated), when the server names some. */
  scope?: string;
  /** Another server's audience, for the confused-deputy token; undefined when the worker lists no other. */
  otherAudience?: { server: string; audience: string };
}

/** How checks reach things and get tokens. */
export interface AuditContext {
  router: Router;
  mint: Minter;
}
