import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode, httpStatus } from '../aws/errors.js';
import type { AlertEntry, BatchOutcome, EntryFailure } from './sink.js';

/** UTF-8 bytes of a string: AWS counts bytes, not characters. */
export const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Cuts text to at most `max` UTF-8 bytes, ending with a marker, never inside a character. */
export function clipBytes(text: string, max: number, marker = '… (truncated)'): string {
  if (bytes(text) <= max) return text;
  const room = max - bytes(marker);
  let cut = Buffer.from(text, 'utf8').subarray(0, Math.max(0, room)).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD: drop it.
  cut = cut.replace(/\uFFFD+$/, '');
  while (bytes(cut) > room) cut = cut.slice(0, -1);
  return `${cut}${marker}`;
}

/**
 * Packs entries in order into batches of at most `maxEntries` and `maxBytes` in total: the
 * same entries always give the same batches.
 */
export function pack<T>(
  entries: readonly AlertEntry<T>[],
  size: (entry: AlertEntry<T>) => number,
  limits: { maxEntries: number; maxBytes: number },
): AlertEntry<T>[][] {
  const batches: AlertEntry<T>[][] = [];
  let current: AlertEntry<T>[] = [];
  let total = 0;
  for (const entry of entries) {
    const n = size(entry);
    if (
      current.length > 0 &&
      (current.length >= limits.maxEntries || total + n > limits.maxBytes)
    ) {
      batches.push(current);
      current = [];
      total = 0;
    }
    current.push(entry);
    total += n;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Call-level errors that mean "try later": the far end answered, and did not take it. */
const RETRIABLE_CODES =
  /Throttl|TooManyRequests|LimitExceeded|InternalError|InternalFailure|InternalException|ServiceUnavailable|KMSThrottling|RequestTimeout$/;

/**
 * How a failed call is reported per entry. An answer from AWS (an HTTP status) means the
 * request was refused: throttling and 5xx are `retry`, anything else `permanent`. No answer
 * (a reset or a timeout after the SDK's own retries) means it may have arrived: `in-doubt`.
 */
export function callFailure(error: unknown, ids: readonly string[]): EntryFailure[] {
  const status = httpStatus(error);
  const code = errorCode(error);
  const kind: EntryFailure['kind'] =
    status === undefined
      ? 'in-doubt'
      : status >= 500 || status === 429 || RETRIABLE_CODES.test(code)
        ? 'retry'
        : 'permanent';
  const reason = `${code}${status ? ` (HTTP ${status})` : ''}: ${String((error as Error).message ?? '').slice(0, 300)}`;
  return ids.map((id) => ({ id, code, reason, kind }));
}

/** One call's answer, per entry: what the batch APIs report inside their HTTP 200. */
export interface CallAnswer {
  delivered: string[];
  failed: (EntryFailure & { kind: 'retry' | 'permanent' })[];
}

/**
 * Calls a batch API, then re-sends only the entries it refused for a passing reason, with
 * exponential backoff and jitter, up to `attempts` calls; the rest is reported. (A partial
 * failure is an HTTP 200, so the SDK's own retry never sees it.)
 */
export async function withEntryRetries<T>(
  entries: readonly AlertEntry<T>[],
  call: (entries: readonly AlertEntry<T>[]) => Promise<CallAnswer>,
  options: { attempts?: number; baseDelayMs?: number; signal?: AbortSignal } = {},
): Promise<BatchOutcome> {
  const attempts = options.attempts ?? 4;
  const outcome: BatchOutcome = { delivered: [], failed: [] };
  let pending = [...entries];
  for (let attempt = 1; pending.length > 0; attempt++) {
    let answer: CallAnswer;
    try {
      answer = await call(pending);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const failures = callFailure(
        error,
        pending.map((e) => e.id),
      );
      if (failures[0]?.kind !== 'retry' || attempt >= attempts) {
        outcome.failed.push(...failures);
        return outcome;
      }
      answer = { delivered: [], failed: failures as CallAnswer['failed'] };
    }
    outcome.delivered.push(...answer.delivered);
    // An entry the answer names neither way is not known to be lost: report it, never resend.
    const named = new Set([...answer.delivered, ...answer.failed.map((f) => f.id)]);
    for (const entry of pending)
      if (!named.has(entry.id))
        outcome.failed.push({
          id: entry.id,
          code: 'no-answer',
          reason: 'the answer named neither a success nor a failure for it',
          kind: 'in-doubt',
        });
    const retry = new Set(answer.failed.filter((f) => f.kind === 'retry').map((f) => f.id));
    for (const failure of answer.failed)
      if (failure.kind === 'permanent' || attempt >= attempts) outcome.failed.push(failure);
    if (attempt >= attempts) return outcome;
    pending = pending.filter((e) => retry.has(e.id));
    if (pending.length > 0) {
      const base = (options.baseDelayMs ?? 200) * 2 ** (attempt - 1);
      await sleep(
        base / 2 + Math.random() * base,
        undefined,
        options.signal ? { signal: options.signal } : {},
      );
    }
  }
  return outcome;
}

/**
 * Spaces call starts at least `intervalMs` apart (Security Hub: 10 per second), without
 * waiting for earlier calls to finish, so latency does not cost throughput.
 */
export class CallPacer {
  private next = 0;
  public constructor(private readonly intervalMs: number) {}

  public async turn(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await sleep(at - now, undefined, signal ? { signal } : {});
  }
}
