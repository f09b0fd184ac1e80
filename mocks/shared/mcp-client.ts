import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface ConnectMcpClientOptions {
  /** Sent as `Authorization: Bearer <token>`; omitted when undefined. */
  token?: string;
  /** Extra request headers (an explicit `Authorization` here wins over `token`). */
  headers?: Record<string, string>;
  /** Client name in the initialize request. */
  name?: string;
}

/** An initialized SDK client; disposing it closes the transport. */
export type ConnectedMcpClient = Client & AsyncDisposable;

/**
 * Connects the real SDK client over Streamable HTTP (initialize + initialized) with the given
 * bearer token, the way the worker's `type: http` MCP servers connect. Rejects with the SDK's
 * own error (e.g. `StreamableHTTPError` with `code: 401`) when the server refuses.
 *
 * @example
 * await using client = await connectMcpClient(server.mcpUrl, { token: 'orchestration-agent' });
 * const { tools } = await client.listTools();
 */
export async function connectMcpClient(url: string, options: ConnectMcpClientOptions = {}): Promise<ConnectedMcpClient> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  Object.assign(headers, options.headers);
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: options.name ?? 'mcp-topology-harness', version: '0.1.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    await client.close();
    throw error;
  }
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}
