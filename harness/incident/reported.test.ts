import { describe, expect, it } from 'vitest';
import { parseReported } from './reported.ts';

const SERVERS = [
  { name: 'alertmanager', status: 'connected' },
  { name: 'grafana', status: 'connected' },
  { name: 'prometheus', status: 'failed' },
];

describe('parseReported', () => {
  it.each([
    ['the seed log line (Python repr, over lines)', "'mcp_servers': [\n  {'name': 'alertmanager', 'status': 'connected'},\n  {'name': 'grafana', 'status': 'connected'},\n  {'name': 'prometheus', 'status': 'failed'}\n]"],
    ['a log line with a prefix', "INFO worker: init {'mcp_servers': [{'name': 'alertmanager', 'status': 'connected'}, {'name': 'grafana', 'status': 'connected'}, {'name': 'prometheus', 'status': 'failed'}], 'tools': []}"],
    ['the SDK init message (JSON)', JSON.stringify({ type: 'system', subtype: 'init', mcp_servers: SERVERS, tools: [] })],
    ['a bare JSON list', JSON.stringify(SERVERS)],
  ])('reads %s', (_name, text) => {
    expect(parseReported(text)).toEqual(SERVERS);
  });

  it('reads a name Python quotes with double quotes', () => {
    expect(parseReported(`'mcp_servers': [{'name': "o'brien", 'status': 'needs-auth'}]`)).toEqual([{ name: "o'brien", status: 'needs-auth' }]);
  });

  it.each([
    ['no list at all', 'prometheus failed', /no mcp_servers list/],
    ['a list that is not closed', "'mcp_servers': [{'name': 'grafana'", /not closed/],
    ['an unknown status', "'mcp_servers': [{'name': 'grafana', 'status': 'broken'}]", /mcp_servers\[0\]\.status/],
    ['a missing name', "'mcp_servers': [{'status': 'failed'}]", /mcp_servers\[0\]\.name/],
    ['a server twice', "'mcp_servers': [{'name': 'a', 'status': 'failed'}, {'name': 'a', 'status': 'connected'}]", /a is listed twice/],
    ['not JSON5', "'mcp_servers': [{'name' 'a'}]", /not a list of \{name, status\}/],
  ])('refuses %s with ERR_REPORTED_INVALID', (_name, text, message) => {
    expect(() => parseReported(text)).toThrow(expect.objectContaining({ code: 'ERR_REPORTED_INVALID', message: expect.stringMatching(message) }));
  });
});
