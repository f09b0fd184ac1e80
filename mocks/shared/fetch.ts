import { fetch as undiciFetch, ProxyAgent } from 'undici';

export type Fetch = typeof globalThis.fetch;

/**
 * A fetch whose every request goes through the HTTP proxy at `proxyUrl`: how a node's outbound
 * traffic is made to pass through its network shim. Without a proxy, the global fetch.
 *
 * @example
 * const fetch = proxiedFetch(process.env.HTTP_PROXY);
 */
export function proxiedFetch(proxyUrl: string | undefined): Fetch {
  if (!proxyUrl) return globalThis.fetch;
  const dispatcher = new ProxyAgent(proxyUrl);
  return ((input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as Fetch;
}
