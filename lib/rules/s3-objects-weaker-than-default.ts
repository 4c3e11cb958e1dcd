import type { Rule } from '../engine/types.js';
import type { ObjectEncryptionType } from '../evidence/types.js';
import { defaultEncryption } from './shared/encryption.js';
import { coverage, isOutcome, judgeObjects, objectEvidence, total } from './shared/objects.js';

/** Strength order; SSE-C and unknown types are judged by other rules. */
const STRENGTH: Partial<Record<ObjectEncryptionType, number>> = {
  NONE: 0,
  'SSE-S3': 1,
  'SSE-KMS': 2,
  'DSSE-KMS': 3,
};

/**
 * No current object is encrypted more weakly than the bucket default (order: none < SSE-S3 <
 * SSE-KMS < DSSE-KMS): such objects predate the default or were written with explicit headers.
 * Client-side encrypted objects are not ranked: their protection does not depend on S3's.
 *
 * - PASS: every object in scope was classified and is at least as strong as the default.
 * - FAIL: weaker objects exist (by type, with counts and examples).
 * - ERROR: the default encryption could not be read, or its type is unknown, or no weaker
 *   object was found but some objects were not seen.
 * - SKIPPED: objects were not scanned.
 */
export const rule: Rule = {
  id: 's3-objects-weaker-than-default',
  title: 'No objects are encrypted more weakly than the bucket default',
  severity: 'medium',
  resourceType: 'AWS::S3::Bucket',
  description: 'Compares the encryption of each object with the bucket default encryption.',
  rationale:
    'Changing default encryption or enabling the Bucket Key only affects new objects. Older objects keep their weaker protection until they are re-encrypted, so a KMS default can hide SSE-S3 or plaintext data.',
  remediation: {
    text: 'Re-encrypt the weaker objects: UpdateObjectEncryption for SSE-S3 to SSE-KMS in place, a copy in place for plaintext objects.',
    cli: `aws s3api update-object-encryption --bucket BUCKET --key KEY --object-encryption '{"SSEKMS":{"KMSKeyArn":"KEY_ARN","BucketKeyEnabled":true}}'`,
    cloudformation: `# Objects are data: re-encrypt with S3 Batch Operations over an S3 Inventory manifest.`,
  },
  references: ['https://repost.aws/knowledge-center/s3-existing-objects-default-encryption'],
  evidence: ['objects', 'encryption'],
  directoryBuckets: {
    skipped: 'objects of directory buckets are not swept (zonal endpoints and CreateSession)',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const objects = objectEvidence(context);
    if (isOutcome(objects)) return objects;
    const encryption = defaultEncryption(context);
    if (encryption.kind === 'failed')
      return {
        status: 'ERROR',
        message: `Could not read the default encryption of bucket ${name}: ${encryption.reason}.`,
      };
    if (encryption.kind === 'unknown-type')
      return {
        status: 'ERROR',
        message: `Bucket ${name} has a default of unknown type "${encryption.algorithm}", so object strength cannot be compared.`,
      };
    const defaultType: ObjectEncryptionType =
      encryption.kind === 'kms'
        ? encryption.algorithm === 'aws:kms:dsse'
          ? 'DSSE-KMS'
          : 'SSE-KMS'
        : encryption.kind === 'none'
          ? 'NONE'
          : 'SSE-S3';
    const floor = STRENGTH[defaultType] ?? 0;
    const weaker = (Object.keys(STRENGTH) as ObjectEncryptionType[]).filter(
      (t) => (STRENGTH[t] ?? 0) < floor && (objects.byEncryption[t]?.count ?? 0) > 0,
    );
    const tally = total(...weaker.map((t) => objects.byEncryption[t]));
    return judgeObjects(objects, {
      scanTime: context.scanTime,
      ...(weaker.length > 0
        ? {
            violation: {
              status: 'FAIL',
              message: `Bucket ${name} defaults to ${defaultType} but holds ${tally.count} objects encrypted more weakly (${weaker.map((t) => `${t}: ${objects.byEncryption[t]?.count}`).join(', ')}), e.g. ${tally.examples.slice(0, 3).join(', ')}.`,
              details: {
                default: defaultType,
                weaker: Object.fromEntries(weaker.map((t) => [t, objects.byEncryption[t]])),
              },
            },
          }
        : {}),
      noneFound: `No object of bucket ${name} is weaker than its ${defaultType} default`,
      pass: `No object of bucket ${name} is weaker than its ${defaultType} default (${coverage(objects)}).`,
    });
  },
};
