import { z } from 'zod';
import { TOKEN_KINDS, type TokenKind } from '../../mocks/auth-server/index.ts';
import { ClientNameSchema } from '../client/worker-client.ts';
import { ClientRevisionSchema } from '../client/revision-negotiation.ts';
import { PYJWT_VERSION_ENV, PyJwtVersionSchema, unknownPyJwtVersionMessage } from '../../mocks/monitoring-mcp/index.ts';
import { isMcpRevisionsSetting, MCP_REVISIONS_ENV, unknownMcpRevisionsMessage } from '../../mocks/shared/index.ts';
import { mcpTimeoutMs } from '../client/index.ts';
import { NebulaVersionSchema } from '../network/index.ts';

/** What a node runs: one of the simulated services, or the simulated claude-worker. */
export const NodeRunSchema = z.enum(['worker', 'auth-server', 'prometheus', 'monitoring-ai-mcp', 'monitoring-mcp']);
export type NodeRun = z.infer<typeof NodeRunSchema>;

export const TokenKindSchema = z.enum(TOKEN_KINDS as unknown as [TokenKind, ...TokenKind[]]);

/** A token the auth server mints for the worker, bound to an env var: `valid` or `{kind, audience}`. */
const TokenObjectSchema = z.strictObject({
  kind: TokenKindSchema,
  /** The resource the token is meant for; only `valid` and `with-audience` carry it (AUDIENCE_KINDS, harness/runtime/tokens.ts). */
  audience: z.string().optional(),
  subject: z.string().optional(),
  /** The `scope` claim (space-separated), as a client_credentials token with `scope=` carries it. */
  scope: z.string().min(1).optional(),
  ttl_seconds: z.number().int().optional(),
});
export const TokenSpecSchema = z.union([
  TokenKindSchema.transform((kind): z.output<typeof TokenObjectSchema> => ({ kind })),
  TokenObjectSchema,
]);
export type TokenSpec = z.output<typeof TokenSpecSchema>;

const EnvSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const ServiceSchema = z.strictObject({
  /** Consul service name: reached as `<name>.service.<dc>.consul`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a Consul service name: lower-case letters, digits and dashes'),
  /** Port on the overlay, the one firewall rules and URLs name. */
  port: z.number().int().min(1).max(65535),
  /** Other host names that reach the same service, e.g. a non-Consul DNS name from a config. */
  aliases: z.array(z.string()).default([]),
});

export const WorkerSchema = z.strictObject({
  /** The seed's agent_config.yaml `mcp_servers:` map, inline. */
  mcp_servers: z.record(z.string(), z.unknown()).optional(),
  /** Claude Code's `mcpServers` map, inline. */
  mcpServers: z.record(z.string(), z.unknown()).optional(),
  /** Path (relative to the scenario file) to an agent_config.yaml or a Claude Code `.mcp.json`. */
  config_file: z.string().optional(),
  /** The worker's environment; `MCP_TIMEOUT` is its wait per server, as in Claude Code (default 30 s). */
  env: EnvSchema.default({}).superRefine((env, context) => {
    const timeout = mcpTimeoutMs(env);
    if (typeof timeout !== 'number') context.addIssue({ code: 'custom', path: ['MCP_TIMEOUT'], message: timeout.error });
  }),
  tokens: z.record(z.string(), TokenSpecSchema).default({}),
  /** Claude Code settings.json content, inline. */
  settings: z.unknown().optional(),
  /** Path (relative to the scenario file) to a settings.json. */
  settings_file: z.string().optional(),
  /** Who plays the worker: the simulated claude-worker (default) or the real Claude Code. `--client` overrides it. */
  client: ClientNameSchema.optional(),
  /**
   * The MCP revision the worker is pinned to: `2025-11-25` (initialize, no probe) or `2026-07-28`
   * (server/discover, no fallback). Unset: negotiate as Claude Code 2.1.332 does.
   */
  client_revision: ClientRevisionSchema.optional(),
});

/** How the containers runtime knows a bring-your-own server is up: a log line (regex) or an HTTP path answering. */
export const ReadySchema = z.union([
  z.strictObject({ log: z.string().min(1) }),
  z.strictObject({ http: z.string().regex(/^\//, 'an HTTP path, starting with /') }),
]);
export type Ready = z.infer<typeof ReadySchema>;

export const NodeSchema = z.strictObject({
  run: NodeRunSchema,
  /** Overlay IP from the node's certificate; generated when absent. */
  ip: z.ipv4().optional(),
  groups: z.array(z.string()).default([]),
  /** Name of the CA that signed the node's certificate, what `ca_name` rules match. */
  ca_name: z.string().optional(),
  /** That CA's fingerprint (`nebula-cert print`'s fingerprint: 64 hex digits), what `ca_sha` rules match. */
  ca_sha: z.string().regex(/^[0-9a-f]{64}$/, 'a CA fingerprint: 64 lower-case hex digits, as nebula-cert print shows it').optional(),
  /** Unsafe networks the node routes for (its certificate's `subnets`): addresses in them reach this node. */
  subnets: z.array(z.cidrv4()).optional(),
  service: ServiceSchema.optional(),
  env: EnvSchema.default({}),
  /** Nebula's `firewall:` section, as in its config.yml. */
  firewall: z.unknown().optional(),
  worker: WorkerSchema.optional(),
  /** Bring your own server (containers runtime only): run this image instead of the simulated service. */
  image: z.string().min(1).optional(),
  /** The command of the image (or, without `image`, a command run in the harness's own image). */
  command: z.array(z.string()).min(1).optional(),
  /** When the server is up; default: `{http: /}` answered with any status. */
  ready: ReadySchema.optional(),
  /** Port the server listens on inside its container; default the service's port. */
  container_port: z.number().int().min(1).max(65535).optional(),
}).superRefine((node, context) => {
  // A version a simulated service would refuse at start is a scenario error, named by file and line.
  const pyjwt = node.env[PYJWT_VERSION_ENV];
  if (node.run === 'monitoring-mcp' && !node.image && !node.command && pyjwt !== undefined && pyjwt !== '' && !PyJwtVersionSchema.safeParse(pyjwt.trim()).success) {
    context.addIssue({ code: 'custom', path: ['env', PYJWT_VERSION_ENV], message: unknownPyJwtVersionMessage(pyjwt, PYJWT_VERSION_ENV) });
  }
  const revisions = node.env[MCP_REVISIONS_ENV];
  if ((node.run === 'monitoring-mcp' || node.run === 'monitoring-ai-mcp') && !node.image && !node.command && !isMcpRevisionsSetting(revisions)) {
    context.addIssue({ code: 'custom', path: ['env', MCP_REVISIONS_ENV], message: unknownMcpRevisionsMessage(revisions, MCP_REVISIONS_ENV) });
  }
});

export const StatusSchema = z.enum(['connected', 'failed', 'needs-auth', 'pending']);
export type ExpectedStatus = z.infer<typeof StatusSchema>;

const ReasonPatternSchema = z
  .string()
  .regex(/^[a-z_]+(\.[a-z_]+)?$/, 'a reason kind like auth.invalid_token, or its category like auth');

export const ExpectationSchema = z.union([
  StatusSchema.transform((status) => ({ status })),
  z.strictObject({
    status: StatusSchema,
    /**
     * A reason kind (`network.dropped`) or a category (`network`), or a list of them, any of which
     * passes: for a race the bounds decide (a 401 from a server whose JWKS is dropped, or the
     * worker's deadline first while it waits).
     */
    reason: z.union([ReasonPatternSchema, z.array(ReasonPatternSchema).min(2, 'a list names at least two reasons; write one as a string')]).optional(),
    /** The hop that failed, `from -> to`, e.g. `monitoring-mcp -> auth-server`. */
    hop: z.string().regex(/^\S+ -> \S+$/, 'written as "from-node -> to-node"').optional(),
    /** Tools (short names, or `all`) that are connected but that settings.json does not allow. */
    unpermitted: z.union([z.literal('all'), z.array(z.string())]).optional(),
  }),
]);
export type Expectation = z.output<typeof ExpectationSchema>;

export const ScenarioFileSchema = z.strictObject({
  description: z.string().optional(),
  extends: z.string().optional(),
  patch: z.record(z.string(), z.unknown()).optional(),
  /** Which Nebula the overlay runs: its rule parsing, cidr/any, local_cidr default and reject wiring. */
  nebula: NebulaVersionSchema.optional(),
  /** Consul datacenter of every service name. */
  dc: z.string().default('dev-us-east-1'),
  /**
   * How long the network holds a dropped flow before giving up on it for the client: a dropped
   * flow fails at this bound. A server that answers is waited for up to the worker's MCP_TIMEOUT.
   */
  timeout_ms: z.number().int().min(50).max(120_000).default(1500),
  nodes: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a node name: lower-case letters, digits and dashes'), NodeSchema),
  expect: z.record(z.string(), ExpectationSchema).default({}),
  /** A matrix family: expands into one scenario per combination (see README). */
  matrix: z.unknown().optional(),
});
export type ScenarioFile = z.output<typeof ScenarioFileSchema>;
export type NodeSpec = z.output<typeof NodeSchema>;
