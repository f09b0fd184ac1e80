import { fetch as undiciFetch, ProxyAgent, type Dispatcher } from 'undici';

export type Fetch = typeof globalThis.fetch;

/**
 * The dispatcher behind `proxiedFetch`: CONNECT tunnels for http:// targets too (undici would
 * otherwise send absolute-form requests, one proxied request and one upstream connection each).
 * A tunnel is one flow, as on Nebula: the shim decides once per connection, then only pipes bytes,
 * and keep-alive reuses it for the next request to the same origin.
 *
 * @example
 * const dispatcher = proxyDispatcher(network.egress('claude-worker').proxyUrl);
 * await undiciFetch('http://monitoring-mcp.service.dev-us-east-1.consul:8000/', { dispatcher });
 * await dispatcher.close();
 */
export function proxyDispatcher(proxyUrl: string): ProxyAgent {
  return new ProxyAgent({ uri: proxyUrl, proxyTunnel: true });
}

/**
 * A fetch whose every request goes through the HTTP proxy at `proxyUrl`: how a node's outbound
 * traffic is made to pass through its network shim. Without a proxy, the global fetch.
 *
 * @example
 * const fetch = proxiedFetch(process.env.HTTP_PROXY);
 */
export function proxiedFetch(proxyUrl: string | undefined): Fetch {
  if (!proxyUrl) return globalThis.fetch;
  // Made on the first request: most nodes (an auth server, a Prometheus) never fetch, and a topology makes one fetch per node.
  let dispatcher: ProxyAgent | undefined;
  return fetchThrough(() => (dispatcher ??= proxyDispatcher(proxyUrl)));
}

/**
 * undici's fetch with every request on the dispatcher `dispatcher()` returns (asked per request):
 * for a caller that owns the dispatcher and closes it when done.
 *
 * @example
 * const dispatcher = proxyDispatcher(proxyUrl);
 * const fetch = fetchThrough(() => dispatcher);
 */
export function fetchThrough(dispatcher: () => Dispatcher): Fetch {
  return ((input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) =>
    undiciFetch(input as never, { ...(init as object), dispatcher: dispatcher() } as never)) as unknown as Fetch;
}
