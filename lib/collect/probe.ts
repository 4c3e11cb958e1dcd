import { errorCode, httpStatus, type SdkErrorLike } from '../aws/errors.js';
import type { Probe } from '../evidence/probe.js';

const DENIED_NAMES = new Set(['AccessDenied', 'AccessDeniedException', 'AllAccessDisabled']);

/** The `send` options that tie a call to the scan's abort signal. */
export function abortOption(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
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
