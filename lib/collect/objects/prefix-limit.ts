/**
 * S3 serves at least 5,500 GET/HEAD requests per second per partitioned prefix; at a HEAD
 * latency of about 20 ms, 100 requests in flight on one prefix stay below that (5,000/s).
 */
export const DEFAULT_PREFIX_CONCURRENCY = 100;

/**
 * The prefix a key's requests are bounded under: everything up to and including the first
 * `/` (`''` for keys at the top level). S3 partitions by key prefix; the first path segment
 * is the one users lay their data out by (dates, tenants, tables).
 */
export function prefixOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash + 1);
}

/** Runs a task under its prefix's bound. */
export interface PrefixLimiter {
  <T>(prefix: string, task: () => Promise<T>): Promise<T>;
  /** Prefixes with a task running or waiting (entries are dropped when idle). */
  readonly activePrefixes: number;
}

/**
 * At most `concurrency` tasks at a time per prefix, FIFO within a prefix. State exists only
 * for prefixes with work in flight, so memory stays bounded however many prefixes a bucket has.
 */
export function prefixLimiter(concurrency: number): PrefixLimiter {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`prefix concurrency must be a positive integer, got ${concurrency}`);
  const slots = new Map<string, { running: number; waiting: (() => void)[] }>();
  const release = (prefix: string) => {
    const slot = slots.get(prefix);
    if (!slot) return;
    const next = slot.waiting.shift();
    if (next) {
      next();
      return;
    }
    slot.running -= 1;
    if (slot.running === 0) slots.delete(prefix);
  };
  const run = async <T>(prefix: string, task: () => Promise<T>): Promise<T> => {
    let slot = slots.get(prefix);
    if (!slot) {
      slot = { running: 0, waiting: [] };
      slots.set(prefix, slot);
    }
    if (slot.running < concurrency) slot.running += 1;
    // A released slot passes straight to the next waiter, so `running` is not touched then.
    else await new Promise<void>((resolve) => slot.waiting.push(resolve));
    try {
      return await task();
    } finally {
      release(prefix);
    }
  };
  return Object.defineProperty(run, 'activePrefixes', { get: () => slots.size }) as PrefixLimiter;
}
