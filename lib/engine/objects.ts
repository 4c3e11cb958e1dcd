import type { ObjectScanEvidence, ObjectTally } from '../evidence/types.js';
import type { BucketContext, RuleOutcome } from './types.js';

/** The bucket's object evidence, or the SKIPPED/ERROR outcome that stands in for it. */
export function objectEvidence(context: BucketContext): ObjectScanEvidence | RuleOutcome {
  const objects = context.bucket.objects;
  const name = context.bucket.name;
  if (!objects) {
    return {
      status: 'SKIPPED',
      message: `Objects of bucket ${name} were not scanned (--objects none).`,
    };
  }
  if (objects.listError && objects.classified === 0) {
    return {
      status: 'ERROR',
      message: `Could not list the objects of bucket ${name}: ${objects.listError.code}: ${objects.listError.message}.`,
    };
  }
  return objects;
}

/** How much of the bucket the evidence covers, for messages. */
export function coverage(objects: ObjectScanEvidence): string {
  const scope =
    objects.mode === 'sample'
      ? `a sample of ${objects.classified} of ${objects.listed} listed objects`
      : `${objects.classified} objects`;
  return objects.complete ? scope : `${scope} (listing incomplete)`;
}

/** Objects that could not be classified, or undefined when there are none. */
export function unclassified(objects: ObjectScanEvidence): string | undefined {
  const denied = objects.denied.count;
  const failed = objects.failed.count;
  if (denied === 0 && failed === 0 && !objects.listError) return undefined;
  const parts = [
    ...(denied
      ? [`${denied} HEAD requests denied (e.g. ${objects.denied.examples.slice(0, 3).join(', ')})`]
      : []),
    ...(failed
      ? [`${failed} HEAD requests failed (${Object.keys(objects.failed.codes).join(', ')})`]
      : []),
    ...(objects.listError ? [`listing stopped: ${objects.listError.code}`] : []),
  ];
  return parts.join('; ');
}

/** Sum of tallies. */
export function total(...tallies: (ObjectTally | undefined)[]): ObjectTally {
  return tallies.reduce<ObjectTally>(
    (sum, t) =>
      t
        ? {
            count: sum.count + t.count,
            bytes: sum.bytes + t.bytes,
            examples: [...sum.examples, ...t.examples].slice(0, 100),
          }
        : sum,
    { count: 0, bytes: 0, examples: [] },
  );
}

/** Type guard: the helper returned a finished outcome rather than evidence. */
export function isOutcome(value: ObjectScanEvidence | RuleOutcome): value is RuleOutcome {
  return 'status' in value;
}

/**
 * S3 Inventory has no KMS key column: with KMS-encrypted objects known only from inventory,
 * key-level rules cannot judge and say so instead of passing.
 */
export function inventoryWithoutKeys(
  objects: ObjectScanEvidence,
  bucket: string,
): RuleOutcome | undefined {
  const kmsObjects =
    (objects.byEncryption['SSE-KMS']?.count ?? 0) + (objects.byEncryption['DSSE-KMS']?.count ?? 0);
  if (objects.mode !== 'inventory' || kmsObjects === 0 || Object.keys(objects.byKmsKey).length > 0)
    return undefined;
  return {
    status: 'SKIPPED',
    message: `S3 Inventory lists ${kmsObjects} KMS-encrypted objects in bucket ${bucket} but has no KMS key column; scan with --objects sample or full to check their keys.`,
  };
}
