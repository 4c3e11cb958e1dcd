/**
 * What s3scan reads from an AWS SDK v3 error, shared by collect and the report stores: the
 * error code, the HTTP status, and whether AWS was reachable at all.
 */

/** The parts of an SDK v3 error that s3scan relies on. */
export interface SdkErrorLike {
  name?: string;
  message?: string;
  /** Node's system error code (ENOTFOUND, ECONNRESET, ...), for failures below HTTP. */
  code?: string;
  hostname?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** HTTP status of an SDK error; HEAD-style errors have no useful `name`, so use this. */
export function httpStatus(error: unknown): number | undefined {
  return (error as SdkErrorLike)?.$metadata?.httpStatusCode;
}

/** The error code: the XML/JSON code when there is one, else the name, else the status. */
export function errorCode(error: unknown): string {
  const e = error as SdkErrorLike;
  const name = e?.Code ?? e?.name;
  if (name && name !== 'Unknown' && name !== 'Error' && !/^\d{3}$/.test(name)) return name;
  const status = httpStatus(error);
  if (status) return `HTTP${status}`;
  return typeof e?.code === 'string' && e.code ? e.code : (name ?? 'UnknownError');
}

const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * For a failure to reach AWS at all (DNS, refused, no route): a sentence naming the host,
 * else undefined. Such a failure is about the network or the endpoint, not permissions.
 */
export function unreachable(error: unknown): string | undefined {
  const e = error as SdkErrorLike;
  if (!e?.code || !UNREACHABLE_CODES.has(e.code)) return undefined;
  const host =
    e.hostname ?? /(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED)\s+(\S+)/.exec(String(e.message))?.[1];
  const what =
    e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
      ? 'its name does not resolve'
      : 'nothing answers there';
  return `the endpoint ${host ?? '(unknown host)'} is unreachable (${e.code}: ${what}); check the network, --region, --endpoint-url or AWS_ENDPOINT_URL`;
}
