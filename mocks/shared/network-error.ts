/**
 * The network-level code of a failed fetch, for logs a diagnosis reads: `ETIMEDOUT` for an
 * AbortSignal.timeout, else the first `code` down the cause chain (undici puts ECONNREFUSED,
 * ENOTFOUND, UND_ERR_SOCKET, ... on `cause`), else the error's name.
 *
 * @example
 * try { await fetch(url) } catch (e) { log.write('x.failed', { errorCode: networkErrorCode(e) }) }
 */
export function networkErrorCode(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'ETIMEDOUT';
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Object; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.name : 'UNKNOWN';
}

/** An error's message with its cause's ("fetch failed: connect ECONNREFUSED 127.0.0.1:1"). */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
