import type { Probe } from '../evidence/probe.js';

/** The parts of an SDK v3 error that s3scan relies on. */
interface SdkErrorLike {
  name?: string;
  message?: string;
  /** Node's system error code (ENOTFOUND, ECONNRESET, ...), for failures below HTTP. */
  code?: string;
  hostname?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const DENIED_NAMES = new Set(['AccessDenied', 'AccessDeniedException', 'AllAccessDisabled']);

/** The `send` options that tie a call to the scan's abort signal. */
export function abortOption(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
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

/**
 * Turns an SDK error into a probe. `absentCodes` are the codes that mean "not configured"
 * for this call (e.g. `NoSuchBucketPolicy`). 403 and the AccessDenied family are `denied`
 * (KMS answers AccessDeniedException with HTTP 400, hence the name check); 405 is `denied`
 * too (GetBucketPolicy from an identity outside the bucket owner account).
 */
export function probeFromError<T>(error: unknown, absentCodes: readonly string[]): Probe<T> {
  const code = errorCode(error);
  const status = httpStatus(error);
  const message = String((error as SdkErrorLike)?.message ?? error).slice(0, 500);
  if (absentCodes.includes(code)) return { absent: code };
  if (DENIED_NAMES.has(code) || status === 403) return { denied: code, message };
  if (status === 405) {
    return { denied: code, message: `${message} (the caller is not in the bucket owner account)` };
  }
  return { error: code, message };
}

/** SDK output as plain JSON: no `$metadata`, Dates as ISO strings, no undefined members. */
export function jsonSafe<T>(output: object): T {
  const { $metadata: _ignored, ...rest } = output as { $metadata?: unknown };
  return JSON.parse(JSON.stringify(rest)) as T;
}

/** Runs an AWS read and records what it observed; never throws. */
export async function probe<T>(
  read: () => Promise<T>,
  absentCodes: readonly string[] = [],
): Promise<Probe<T>> {
  try {
    return { ok: await read() };
  } catch (error) {
    return probeFromError<T>(error, absentCodes);
  }
}

/** The region S3 names in a wrong-region answer (301 header, or the 400 message). */
export function redirectRegion(error: unknown): string | undefined {
  const e = error as SdkErrorLike & { Region?: string };
  const header = e?.$response?.headers?.['x-amz-bucket-region'];
  if (header) return header;
  if (e?.Region) return e.Region;
  const expecting = /expecting '([a-z0-9-]+)'/.exec(String(e?.message ?? ''));
  return expecting?.[1];
}
