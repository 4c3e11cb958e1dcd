import type { BucketEvidence } from '../evidence/types.js';
import type { Assurance, Status } from './types.js';

// How much a verdict saw (Finding.assurance): what the engine attaches to every finding and the
// object rules say in their messages.

/** What a verdict on a bucket's configuration or an account saw: all of it. */
export const COMPLETE: Assurance = { kind: 'complete' };
const DAY_MS = 86_400_000;

/**
 * How much of a bucket's objects its object evidence saw: the whole bucket (a full sweep, or a
 * sample that covered every listed object), a sample of it, an inventory delivery of some
 * age, or nothing (objects were not scanned).
 */
export function objectAssurance(
  bucket: Pick<BucketEvidence, 'objects'>,
  scanTime: number,
): Assurance {
  const objects = bucket.objects;
  if (!objects) return { kind: 'none' };
  const carried = objects.carriedFrom ? { carriedFrom: objects.carriedFrom.scanId } : {};
  if (objects.mode === 'inventory' && objects.inventory) {
    const delivered = Date.parse(objects.inventory.createdAt);
    return {
      kind: 'inventory',
      deliveredAt: objects.inventory.createdAt,
      ageDays: Number.isNaN(delivered)
        ? -1
        : Math.round(((scanTime - delivered) / DAY_MS) * 10) / 10,
      ...carried,
    };
  }
  if (objects.mode === 'sample' && objects.classified < objects.listed)
    return { kind: 'sample', classified: objects.classified, listed: objects.listed, ...carried };
  return { kind: 'complete', ...carried };
}

/**
 * The share of violating objects a clean uniform sample of `n` cannot rule out, with 95 %
 * confidence: the exact binomial bound for zero found, 1 - 0.05^(1/n) (about 3/n).
 */
export function samplingUpperBound95(n: number): number {
  return n > 0 ? 1 - 0.05 ** (1 / n) : 1;
}

/** A PASS on a sample says how much it could have missed. */
export function withBound(assurance: Assurance, status: Status): Assurance {
  return assurance.kind === 'sample' && status === 'PASS'
    ? {
        ...assurance,
        upperBound95: Math.round(samplingUpperBound95(assurance.classified) * 1e6) / 1e6,
      }
    : assurance;
}
