import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { z } from 'zod';
import { NetworkError } from './errors.ts';
import { parseFirewall } from './firewall.ts';
import type { NodeIdentity } from './identity.ts';
import type { NetworkNode } from './names.ts';

/** One node of a network file: its certificate-like identity and Nebula's `firewall:` section. */
export const NetworkFileNodeSchema = z.looseObject({
  ip: z.string().refine((ip) => net.isIPv4(ip), 'expected an IPv4 overlay address').optional(),
  groups: z.array(z.string()).default([]),
  ca_name: z.string().optional(),
  ca_sha: z.string().optional(),
  firewall: z.unknown().optional(),
});
export type NetworkFileNode = z.input<typeof NetworkFileNodeSchema>;

/** The smallest file `harness firewall check` reads; topology files are a superset (other keys are ignored). */
export const NetworkFileSchema = z.looseObject({
  nodes: z.record(z.string().min(1), NetworkFileNodeSchema),
});
export type NetworkFile = z.input<typeof NetworkFileSchema>;

/**
 * Reads a network file (YAML) into nodes with parsed firewalls. Nodes without `ip` get the next free
 * address of 10.10.0.0/16 in file order. Errors (ERR_NETWORK_FILE, ERR_FIREWALL_CONFIG) name the file and line.
 *
 * @example
 * const nodes = await loadNetworkFile('net.yaml');
 * // [{ identity: { name: 'claude-worker', ip: '10.10.0.5', groups: [...] }, firewall }]
 */
export async function loadNetworkFile(file: string): Promise<NetworkNode[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new NetworkError('ERR_NETWORK_FILE', `${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
    });
  }
  return parseNetworkFile(text, { file });
}

/** Same as `loadNetworkFile` for text already read; `file` names it in errors. */
export function parseNetworkFile(text: string, options: { file: string }): NetworkNode[] {
  const { file } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const where = (path: (string | number)[]) => locate(doc, lineCounter, file, path);
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new NetworkError('ERR_NETWORK_FILE', `${file}:${pos.line}:${pos.col}: ${yamlError.message.split('\n')[0]}`);
  }
  const parsed = NetworkFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const field = path.length > 0 ? ` ${path.join('.')}:` : '';
    throw new NetworkError('ERR_NETWORK_FILE', `${where(path)}:${field} ${issue.message}`, { path });
  }
  const used = new Set(Object.values(parsed.data.nodes).flatMap((n) => (n.ip ? [n.ip] : [])));
  let next = 2;
  const freeIp = () => {
    while (used.has(`10.10.${next >> 8}.${next & 255}`)) next++;
    const ip = `10.10.${next >> 8}.${next & 255}`;
    used.add(ip);
    return ip;
  };
  const seenIps = new Map<string, string>();
  return Object.entries(parsed.data.nodes).map(([name, node]) => {
    if (node.ip && seenIps.has(node.ip)) {
      throw new NetworkError('ERR_NETWORK_FILE', `${where(['nodes', name, 'ip'])}: nodes ${seenIps.get(node.ip)} and ${name} both have ip ${node.ip}`);
    }
    const identity: NodeIdentity = { name, ip: node.ip ?? freeIp(), groups: node.groups };
    seenIps.set(identity.ip, name);
    if (node.ca_name !== undefined) identity.caName = node.ca_name;
    if (node.ca_sha !== undefined) identity.caSha = node.ca_sha;
    try {
      return { identity, firewall: parseFirewall(node.firewall, { source: `nodes.${name}.firewall` }) };
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      const path = ['nodes', name, 'firewall', ...(error.path ?? [])];
      throw new NetworkError(error.code, `${where(path)}: ${error.message}`, { path, cause: error });
    }
  });
}

/** `file:line:col` of the deepest node along `path` that the document has. */
function locate(doc: Document, lineCounter: LineCounter, file: string, path: (string | number)[]): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return `${file}:${line}:${col}`;
    }
  }
  return file;
}
