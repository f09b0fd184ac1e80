import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import * as z from 'zod';
import { isHarnessError } from '../../common/index.ts';
import { AuthServerError } from './errors.ts';
import type { AuthServerErrorCode } from './errors.ts';
import { JwksFaultSchema } from './jwks-faults.ts';
import type { JwksFault } from './jwks-faults.ts';
import { MintOptionsSchema } from './mint.ts';
import type { MintOptions } from './mint.ts';
import { TokenKindSchema } from './token-kinds.ts';
import type { TokenKind } from './token-kinds.ts';

export const AdminMintRequestSchema = MintOptionsSchema.extend({ kind: TokenKindSchema });
export type AdminMintRequest = z.infer<typeof AdminMintRequestSchema>;

export const AdminJwksFaultRequestSchema = z.strictObject({ fault: JwksFaultSchema.nullable() });
export type AdminJwksFaultRequest = z.infer<typeof AdminJwksFaultRequestSchema>;

/** What the admin API drives: the running server's own methods. */
export interface AdminControls {
  mint(kind: TokenKind, options: MintOptions): Promise<string>;
  addKey(): Promise<string>;
  retireKey(kid: string): void;
  setJwksFault(fault: JwksFault | null): Promise<void>;
  state(): Record<string, unknown>;
}

const STATUS: Partial<Record<AuthServerErrorCode, number>> = {
  ERR_AUTH_SERVER_ADMIN_REQUEST: 400,
  ERR_AUTH_SERVER_MINT: 400,
  ERR_AUTH_SERVER_TOKEN_KIND: 400,
  ERR_AUTH_SERVER_JWKS_FAULT: 400,
  ERR_AUTH_SERVER_UNKNOWN_KID: 404,
  ERR_AUTH_SERVER_LAST_KEY: 409,
  ERR_AUTH_SERVER_CLOSED: 409,
};

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new AuthServerError('ERR_AUTH_SERVER_ADMIN_REQUEST', z.prettifyError(result.error));
  return result.data;
}

/**
 * TEST-ONLY control API, for runtimes where the harness cannot call the server's methods (a
 * container). Unauthenticated by design; never expose a real service like this. Errors are
 * `{code, message}` with the AuthServerError code.
 *
 *   POST   /admin/mint        {kind, audience?, subject?, clientId?, scope?, ttlSeconds?} -> {token}
 *   POST   /admin/keys        -> 201 {kid}  (new signing key)
 *   DELETE /admin/keys/:kid   -> 204        (404 unknown kid, 409 last key)
 *   PUT    /admin/jwks-fault  {fault: null | JwksFault} -> {fault}
 *   GET    /admin/state       -> {issuer, jwksUrl, tokenUrl, kids, jwksFault, jwksRequests}
 */
export function adminApi(controls: AdminControls): Router {
  const router = express.Router();
  router.use(express.json({ limit: '16kb' }));

  router.post('/mint', async (req, res) => {
    const { kind, ...options } = parse(AdminMintRequestSchema, req.body);
    res.json({ token: await controls.mint(kind, options) });
  });
  router.post('/keys', async (_req, res) => {
    res.status(201).json({ kid: await controls.addKey() });
  });
  router.delete('/keys/:kid', (req, res) => {
    controls.retireKey(String(req.params.kid));
    res.status(204).end();
  });
  router.put('/jwks-fault', async (req, res) => {
    const { fault } = parse(AdminJwksFaultRequestSchema, req.body);
    await controls.setJwksFault(fault);
    res.json({ fault });
  });
  router.get('/state', (_req, res) => {
    res.json(controls.state());
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (isHarnessError(error)) {
      res.status(STATUS[error.code as AuthServerErrorCode] ?? 500).json({ code: error.code, message: error.message });
      return;
    }
    // body-parser errors (malformed JSON, too large) carry an HTTP status.
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ code: 'ERR_AUTH_SERVER_ADMIN_REQUEST', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    next(error);
  });
  return router;
}
