/**
 * What one AWS read observed. A rule that needs a `denied` or `error` probe must report ERROR
 * with the reason, never PASS or FAIL: "could not observe" is not "not configured".
 *
 * - `ok`: the call succeeded; the value is the SDK output minus `$metadata`, JSON-safe.
 * - `absent`: AWS said the thing does not exist (e.g. `NoSuchBucketPolicy`).
 * - `denied`: 403 / `AccessDenied` / KMS `AccessDeniedException`.
 * - `error`: anything else (throttled past retries, network, 5xx, unexpected shape).
 */
export type Probe<T> =
  | { ok: T }
  | { absent: string }
  | { denied: string; message?: string }
  | { error: string; message: string };

/** True when the probe holds a value. */
export function isOk<T>(probe: Probe<T>): probe is { ok: T } {
  return 'ok' in probe;
}

/** True when AWS said the thing does not exist. */
export function isAbsent<T>(probe: Probe<T>): probe is { absent: string } {
  return 'absent' in probe;
}

/** The reason a probe could not observe anything, or undefined when it observed. */
export function probeFailure<T>(probe: Probe<T>): string | undefined {
  if ('denied' in probe) {
    return `access denied (${probe.denied}${probe.message ? `: ${probe.message}` : ''})`;
  }
  if ('error' in probe) return `read failed (${probe.error}: ${probe.message})`;
  return undefined;
}
