// A team's own MCP server, as a scenario may bring it (not one of the harness's simulated services):
// one `echo` tool over Streamable HTTP (stateless), on PORT at MCP_PATH (default /mcp). With ECHO_TOKEN set, it wants
// `Authorization: Bearer $ECHO_TOKEN` and answers anything else with 401 invalid_token (RFC 6750).
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const port = Number(process.env.PORT || 8000);
const path = process.env.MCP_PATH || '/mcp';
const token = process.env.ECHO_TOKEN || '';
const log = (event, fields = {}) => console.log(JSON.stringify({ time: new Date().toISOString(), service: 'echo-mcp', event, ...fields }));

function mcpServer() {
  const server = new McpServer({ name: 'echo-mcp', version: '1.0.0' });
  server.registerTool('echo', { description: 'Says back what it was given', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

const httpServer = http.createServer(async (req, res) => {
  if (req.url !== path || req.method !== 'POST') {
    res.writeHead(req.url === path ? 405 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not_found' }));
    return;
  }
  if (token && req.headers.authorization !== `Bearer ${token}`) {
    log('auth.rejected', { cause: req.headers.authorization ? 'wrong_token' : 'missing_token' });
    res
      .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' })
      .end(JSON.stringify({ error: 'invalid_token', error_description: 'not the token echo-mcp was given' }));
    return;
  }
  const server = mcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
});

httpServer.listen(port, '0.0.0.0', () => log('listening', { url: `http://0.0.0.0:${port}${path}` }));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => httpServer.close(() => process.exit(0)));
