/** A connection attempt that takes longer is abandoned and retried (scan.connectTimeoutMs). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * A call with no answer, or a response that stalls, for this long is abandoned and retried
 * (scan.requestTimeoutMs).
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The request handler of a client no call of which may hang: the defaults above. */
export const BOUNDED_REQUESTS = {
  connectionTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
  requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
  socketTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
  throwOnRequestTimeout: true,
} as const;
