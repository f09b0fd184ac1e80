import type { Firewall, NebulaVersion, NodeIdentity } from '../network/index.ts';
import type { ClientName, ClientRevision, McpServerConfig, WorkerSettings } from '../client/index.ts';
import type { Expectation, NodeRun, Ready, TokenSpec } from './schema.ts';

/** A service as the overlay sees it: its Consul name and port, and any other names that reach it. */
export interface TopologyService {
  /** Consul service name, e.g. `monitoring-mcp`. */
  name: string;
  /** Fully qualified Consul name, e.g. `monitoring-mcp.service.dev-us-east-1.consul`. */
  host: string;
  port: number;
  aliases: string[];
}

export interface WorkerSpec {
  servers: McpServerConfig[];
  env: Record<string, string>;
  tokens: Record<string, TokenSpec>;
  settings: WorkerSettings | undefined;
  /** Who plays the worker, when the scenario says (`client:`); the run's `--client` wins. */
  client: ClientName | undefined;
  /** The MCP revision the worker is pinned to (`client_revision:`); undefined: negotiate as Claude Code 2.1.332. */
  revision: ClientRevision | undefined;
}

/** A server the scenario brings itself (an image or a command) in place of a simulated service. */
export interface ContainerSpec {
  /** The image; undefined runs `command` in the harness's own image. */
  image: string | undefined;
  command: string[] | undefined;
  /** When it is up: a log line matching `log` (a regex), or `http` (a path) answering with any status. */
  ready: Ready;
  /** Port it listens on inside its container (the service's port unless `container_port` says otherwise). */
  port: number;
}

export interface TopologyNode {
  name: string;
  run: NodeRun;
  identity: NodeIdentity;
  firewall: Firewall;
  /** Nebula's raw `firewall:` section, as written (what a real Nebula would be given). */
  firewallConfig: unknown;
  service: TopologyService | undefined;
  env: Record<string, string>;
  worker: WorkerSpec | undefined;
  /** Set when the scenario brings its own server for this node (only the containers runtime runs it). */
  container: ContainerSpec | undefined;
}

/** Everything a runtime needs to bring a scenario up; nothing about how. */
export interface Topology {
  dc: string;
  /** The Nebula version whose firewall semantics the overlay follows (default the current one). */
  nebula: NebulaVersion;
  /** How long the network holds a dropped flow before the client sees it fail (`timeout_ms`). */
  timeoutMs: number;
  nodes: TopologyNode[];
}

/** One runnable scenario: a topology and what the worker should see. */
export interface Scenario {
  /** Path under the scenarios root without `.yaml`, plus `/axis=value` parts for a matrix member. */
  id: string;
  file: string;
  /** Every file it was read from: `file`, the files it extends, and the worker's config_file/settings_file. */
  sources: string[];
  description: string | undefined;
  topology: Topology;
  expect: Record<string, Expectation>;
}
