/**
 * Bounds on one AWS call over all its attempts. The request handler's timeouts bound each
 * attempt; without more, a server that never answers costs `maxAttempts` × the request
 * timeout (10 × 30 s by default), and one bucket holds a scan for five minutes. Two bounds
 * close that: a deadline over the whole call, and a retry budget for timeouts of their own
 * (a timed-out attempt is rarely cured by waiting again, while throttling is).
 */
import { AdaptiveRetryStrategy, StandardRetryStrategy } from '@smithy/core/retry';
import type {
  MiddlewareStack,
  RetryErrorInfo,
  RetryStrategyV2,
  StandardRetryToken,
} from '@smithy/types';
import { CallDeadlineExceeded, ScannerError } from '../errors.js';

export { CallDeadlineExceeded };

/** A call with no final answer after this long, retries included, fails (scan.callDeadlineMs). */
export const DEFAULT_CALL_DEADLINE_MS = 60_000;

/** Retries of an attempt that timed out, whatever `maxAttempts` allows (scan.timeoutRetries). */
export const DEFAULT_TIMEOUT_RETRIES = 2;

/** Whether an error is an attempt that timed out (connect, no answer, stalled answer). */
export function isTimeout(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | undefined;
  return (
    e?.name === 'TimeoutError' ||
    e?.code === 'TimeoutError' ||
    e?.code === 'ETIMEDOUT' ||
    e?.name === 'RequestTimeout' ||
    e?.name === 'RequestTimeoutException'
  );
}

/**
 * The SDK's retry strategy (`standard` or `adaptive`), with timeouts limited to
 * `timeoutRetries` retries per call. Throttling and other transient errors keep `maxAttempts`.
 */
export function boundedRetryStrategy(options: {
  mode: 'standard' | 'adaptive';
  maxAttempts: number;
  timeoutRetries: number;
}): RetryStrategyV2 & { mode: string } {
  const inner =
    options.mode === 'adaptive'
      ? new AdaptiveRetryStrategy(async () => options.maxAttempts)
      : new StandardRetryStrategy(options.maxAttempts);
  // Each refresh returns a new token; the count of timeouts travels with it.
  const timeouts = new WeakMap<object, number>();
  return {
    mode: inner.mode,
    acquireInitialRetryToken: (scope: string) => inner.acquireInitialRetryToken(scope),
    async refreshRetryTokenForRetry(token: StandardRetryToken, info: RetryErrorInfo) {
      const spent = (timeouts.get(token) ?? 0) + (isTimeout(info.error) ? 1 : 0);
      if (spent > options.timeoutRetries) {
        // The retry middleware answers with the attempt's own error (the timeout).
        throw new ScannerError(`no retry left for timeouts (${options.timeoutRetries})`);
      }
      const next = await inner.refreshRetryTokenForRetry(token, info);
      timeouts.set(next, spent);
      return next;
    },
    recordSuccess: (token: StandardRetryToken) => inner.recordSuccess(token),
  };
}

/** The key under which smithy keeps a call's own context (its abort signal among it). */
const SMITHY_CONTEXT = '__smithy_context';

/**
 * Gives every call through `client` a deadline over all its attempts: at the deadline the
 * caller gets {@link CallDeadlineExceeded}, and the call's abort signal (which the SDK's retry
 * loop reads between attempts) stops any further attempt. The attempt in flight ends within
 * its own request timeout. A caller's own abort signal (Ctrl-C) still applies.
 */
export function addCallDeadline(client: { middlewareStack: unknown }, deadlineMs: number): void {
  deadlines.set(client, deadlineMs);
  const stack = client.middlewareStack as MiddlewareStack<object, object>;
  stack.add(
    (next, context) => async (args) => {
      const holder = context as Record<string, { abortSignal?: AbortSignal } | undefined>;
      const smithy = holder[SMITHY_CONTEXT] ?? {};
      holder[SMITHY_CONTEXT] = smithy;
      const operation = String((context as { commandName?: string }).commandName ?? 'call').replace(
        /Command$/,
        '',
      );
      const deadline = new AbortController();
      const caller = smithy.abortSignal;
      smithy.abortSignal = caller ? AbortSignal.any([caller, deadline.signal]) : deadline.signal;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new CallDeadlineExceeded(operation, deadlineMs);
          deadline.abort(error);
          reject(error);
        }, deadlineMs);
      });
      try {
        return await Promise.race([next(args), expired]);
      } finally {
        clearTimeout(timer);
      }
    },
    { step: 'initialize', name: 's3scanCallDeadline', priority: 'high' },
  );
}

const deadlines = new WeakMap<object, number>();

/** The call deadline given to `client`, for transports that send outside its stack. */
export function callDeadlineOf(client: object): number | undefined {
  return deadlines.get(client);
}

/**
 * A client built outside `AwsClients` (report store, alert sinks, member-role STS, page
 * publishing) with the default call deadline.
 */
export function withDeadline<C extends { middlewareStack: unknown }>(
  client: C,
  deadlineMs = DEFAULT_CALL_DEADLINE_MS,
): C {
  addCallDeadline(client, deadlineMs);
  return client;
}
