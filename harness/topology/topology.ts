import type { Firewall, NodeIdentity } from '../network/index.ts';
import type { McpServerConfig, WorkerSettings } from '../client/index.ts';
import type { Expectation, NodeRun, TokenSpec } from './schema.ts';

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
}

/** Everything a runtime needs to bring a scenario up; nothing about how. */
export interface Topology {
  dc: string;
  /** The worker's per-server bound: connect, initialize and tools/list. */
  timeoutMs: number;
  nodes: TopologyNode[];
}

/** One runnable scenario: a topology and what the worker should see. */
export interface Scenario {
  /** Path under the scenarios root without `.yaml`, plus `/axis=value` parts for a matrix member. */
  id: string;
  file: string;
  description: string | undefined;
  topology: Topology;
  expect: Record<string, Expectation>;
}
