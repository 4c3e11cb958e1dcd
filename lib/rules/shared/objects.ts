import { samplingUpperBound95 } from '../../engine/assurance.js';
import type { BucketContext, RuleOutcome } from '../../engine/types.js';
import type { ObjectScanEvidence, ObjectTally } from '../../evidence/types.js';

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
  const seen = objects.complete ? scope : `${scope} (listing incomplete)`;
  // A rescan reads settings, not objects: say whose count it is.
  return objects.carriedFrom
    ? `${seen}, as scan ${objects.carriedFrom.scanId} of ${objects.carriedFrom.scanTime} counted them`
    : seen;
}

/** What a rule must know of an object to judge it. */
export interface CoverageNeeds {
  /** The KMS key of every SSE-KMS / DSSE-KMS object (key-level rules). */
  kmsKeys?: boolean;
  /**
   * Whether SSE-C inferred from a key-less HEAD's 400 counts as seen. Only the SSE-C rule
   * takes that inference as its finding; for every other rule the object is unseen.
   */
  inferredSseCIsSeen?: boolean;
}

/** KMS-encrypted objects whose key is not known (inventory has no key column at all). */
function kmsKeyUnknown(objects: ObjectScanEvidence): number {
  if (objects.mode !== 'inventory') return objects.kmsKeyUnknown ?? 0;
  // S3 Inventory has no KMS key column: no KMS object's key is known.
  return (
    (objects.byEncryption['SSE-KMS']?.count ?? 0) +
    (objects.byEncryption['DSSE-KMS']?.count ?? 0) +
    (objects.noncurrentByEncryption['SSE-KMS']?.count ?? 0) +
    (objects.noncurrentByEncryption['DSSE-KMS']?.count ?? 0)
  );
}

/**
 * What the evidence did not see, for the rule's needs, or undefined when every object in
 * scope was classified: HEADs denied or failed, a listing that stopped, 400s that only
 * suggest SSE-C, KMS objects without a key id.
 */
export function unclassified(
  objects: ObjectScanEvidence,
  needs: CoverageNeeds = {},
): string | undefined {
  const denied = objects.denied.count;
  const failed = objects.failed.count;
  const inferred = needs.inferredSseCIsSeen ? 0 : (objects.sseCInferred ?? 0);
  const keyless = needs.kmsKeys ? kmsKeyUnknown(objects) : 0;
  const parts = [
    ...(denied
      ? [`${denied} HEAD requests denied (e.g. ${objects.denied.examples.slice(0, 3).join(', ')})`]
      : []),
    ...(failed
      ? [`${failed} HEAD requests failed (${Object.keys(objects.failed.codes).join(', ')})`]
      : []),
    ...(inferred
      ? [
          `${inferred} objects answered a key-less HEAD with 400, which suggests SSE-C but does not prove it`,
        ]
      : []),
    ...(keyless
      ? [
          objects.mode === 'inventory'
            ? `${keyless} KMS-encrypted objects are known only from S3 Inventory, which has no KMS key column (scan with --objects sample or full to check their keys)`
            : `${keyless} KMS-encrypted objects whose HEAD named no KMS key`,
        ]
      : []),
    ...(objects.listError
      ? [`listing stopped: ${objects.listError.code}`]
      : objects.complete
        ? []
        : ['the scan stopped before every object was classified']),
  ];
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * The one coverage rule every object rule follows: a violation among the classified objects
 * is FAIL; no violation but objects in scope unseen is ERROR naming how many and why; PASS
 * only when every object in scope was classified.
 */
export function judgeObjects(
  objects: ObjectScanEvidence,
  judgement: {
    needs?: CoverageNeeds;
    /** The FAIL found among the classified objects, if any. */
    violation?: RuleOutcome;
    /** A rule-specific ERROR (e.g. a key that could not be described), when no violation. */
    error?: RuleOutcome;
    /** Says what was not found, e.g. "No unencrypted object found in bucket b". */
    noneFound: string;
    pass: string;
    /** The scan time: an inventory PASS says how old the delivery was. */
    scanTime?: string;
  },
): RuleOutcome {
  if (judgement.violation) return judgement.violation;
  if (judgement.error) return judgement.error;
  const gap = unclassified(objects, judgement.needs);
  if (gap) {
    return {
      status: 'ERROR',
      message: `${judgement.noneFound}, but not every object was seen: ${gap}.`,
      details: {
        unseen: {
          denied: objects.denied.count,
          failed: objects.failed.count,
          failedCodes: objects.failed.codes,
          ...(judgement.needs?.inferredSseCIsSeen
            ? {}
            : { sseCInferred: objects.sseCInferred ?? 0 }),
          ...(judgement.needs?.kmsKeys ? { kmsKeyUnknown: kmsKeyUnknown(objects) } : {}),
          complete: objects.complete,
          ...(objects.listError ? { listError: objects.listError } : {}),
        },
      },
    };
  }
  return { status: 'PASS', message: passWithAssurance(objects, judgement) };
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * A PASS says what it saw. On every object: the rule's own sentence. On a sample: never
 * "every object", but what was seen and the 95 % upper bound on the share of objects it could
 * have missed. On S3 Inventory: the delivery's age, and that objects written since are not
 * covered.
 */
function passWithAssurance(
  objects: ObjectScanEvidence,
  judgement: { noneFound: string; pass: string; scanTime?: string },
): string {
  if (objects.mode === 'sample' && objects.classified < objects.listed) {
    const bound = samplingUpperBound95(objects.classified);
    const share = bound * 100 < 0.1 ? (bound * 100).toPrecision(1) : (bound * 100).toFixed(1);
    const carried = objects.carriedFrom
      ? `, as scan ${objects.carriedFrom.scanId} of ${objects.carriedFrom.scanTime} counted them`
      : '';
    return `${judgement.noneFound} among a sample of ${count(objects.classified)} of ${count(objects.listed)} listed objects (uniform by hash rank${carried}): with 95 % confidence at most ${share} % of its objects (about ${count(Math.ceil(bound * objects.listed))}) are affected; scan with --objects full or inventory to see them all.`;
  }
  if (objects.mode === 'inventory' && objects.inventory) {
    const age = judgement.scanTime
      ? (Date.parse(judgement.scanTime) - Date.parse(objects.inventory.createdAt)) / 86_400_000
      : Number.NaN;
    const old = Number.isNaN(age) ? '' : `, ${age.toFixed(1)} days before the scan`;
    return `${judgement.pass.replace(/\.$/, '')}, from the S3 Inventory delivered ${objects.inventory.createdAt}${old}: objects written since are not covered.`;
  }
  return judgement.pass;
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
