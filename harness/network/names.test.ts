import { describe, expect, it } from 'vitest';
import { parseFirewall } from './firewall.ts';
import { createNames } from './names.ts';
import type { NetworkNode } from './names.ts';

const MCP = 'monitoring-mcp.service.dev-us-east-1.consul';
const target = { host: '127.0.0.1', port: 40123 };

function node(name: string, ip: string, services: NetworkNode['services'] = []): NetworkNode {
  return { identity: { name, ip, groups: [] }, firewall: parseFirewall({}), services };
}

describe('NameRegistry', () => {
  const names = createNames([
    node('monitoring-mcp', '10.10.0.7', [{ name: MCP, port: 8000, target }]),
    node('claude-worker', '10.10.0.5'),
  ]);

  it.each([
    [MCP, 8000, { node: 'monitoring-mcp', ip: '10.10.0.7', kind: 'consul', service: MCP, target }],
    ['Monitoring-MCP.service.dev-us-east-1.consul.', 8000, { node: 'monitoring-mcp', kind: 'consul', target }],
    ['monitoring-mcp', 8000, { node: 'monitoring-mcp', kind: 'node', target }],
    ['10.10.0.7', 8000, { node: 'monitoring-mcp', kind: 'ip', target }],
  ] as const)('resolves %s:%s', (host, port, expected) => {
    expect(names.resolve(host, port)).toMatchObject(expected);
  });

  it.each([
    [MCP, 9000, 'monitoring-mcp'],
    ['claude-worker', 8000, 'claude-worker'],
  ] as const)('resolves %s:%s to its node but no target when nothing listens there', (host, port, node) => {
    const resolution = names.resolve(host, port);
    expect(resolution?.node).toBe(node);
    expect(resolution).not.toHaveProperty('target');
  });

  it.each([
    ['prometheus.service.dev-us-east-1.consul'],
    ['monitoring-mcp.service.prod-us-east-1.consul'],
    ['10.10.0.99'],
    ['127.0.0.1'],
    ['localhost'],
  ])('does not resolve %s (a DNS failure)', (host) => {
    expect(names.resolve(host, 8000)).toBeUndefined();
  });

  it.each([
    ['two nodes with one name', () => createNames([node('a', '10.0.0.1'), node('a', '10.0.0.2')])],
    ['two nodes with one IP', () => createNames([node('a', '10.0.0.1'), node('b', '10.0.0.1')])],
    ['one consul name on two nodes', () => createNames([node('a', '10.0.0.1', [{ name: 'x.consul', port: 80, target }]), node('b', '10.0.0.2', [{ name: 'x.consul', port: 81, target }])])],
    ['two services on one port', () => createNames([node('a', '10.0.0.1', [{ name: 'x.consul', port: 80, target }, { name: 'y.consul', port: 80, target }])])],
    ['a target off loopback', () => createNames([node('a', '10.0.0.1', [{ name: 'x.consul', port: 80, target: { host: '192.168.1.10', port: 80 } }])])],
    ['a port out of range', () => createNames([node('a', '10.0.0.1', [{ name: 'x.consul', port: 70000, target }])])],
  ])('throws ERR_NETWORK_CONFIG for %s', (_name, build) => {
    expect(build).toThrow(expect.objectContaining({ code: 'ERR_NETWORK_CONFIG' }));
  });

  it('throws ERR_UNKNOWN_NODE for a service of an unknown node', () => {
    expect(() => names.addService('grafana', { name: 'g.consul', port: 80, target })).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_NODE' }));
  });

  it('replaces a running node\'s identity and firewall, keeping its services', () => {
    const live = createNames([node('monitoring-mcp', '10.10.0.7', [{ name: MCP, port: 8000, target }])]);
    const firewall = parseFirewall({ inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }] });
    live.updateNode('monitoring-mcp', { identity: { name: 'monitoring-mcp', ip: '10.10.0.8', groups: ['dev'] }, firewall });
    expect(live.node('monitoring-mcp')).toMatchObject({ identity: { ip: '10.10.0.8', groups: ['dev'] }, firewall });
    expect(live.resolve('10.10.0.8', 8000)).toMatchObject({ node: 'monitoring-mcp', target });
    expect(live.resolve('10.10.0.7', 8000)).toBeUndefined();
    live.retarget('monitoring-mcp', 8000, { host: '127.0.0.1', port: 40999 });
    expect(live.resolve(MCP, 8000)?.target).toEqual({ host: '127.0.0.1', port: 40999 });
  });

  it.each([
    ['a rename', () => names.updateNode('claude-worker', { identity: { name: 'other', ip: '10.10.0.5', groups: [] }, firewall: parseFirewall({}) }), 'ERR_NETWORK_CONFIG'],
    ["another node's IP", () => names.updateNode('claude-worker', { identity: { name: 'claude-worker', ip: '10.10.0.7', groups: [] }, firewall: parseFirewall({}) }), 'ERR_NETWORK_CONFIG'],
    ['a port the node does not serve', () => names.retarget('monitoring-mcp', 9000, target), 'ERR_UNKNOWN_NODE'],
    ['a target off loopback', () => names.retarget('monitoring-mcp', 8000, { host: '192.168.1.10', port: 80 }), 'ERR_NETWORK_CONFIG'],
  ])('refuses, while running, %s', (_name, change, code) => {
    expect(change).toThrow(expect.objectContaining({ code }));
  });
});
