import type { Rule } from '../engine/types.js';
import { UNUSABLE_KEY_STATES } from '../evidence/kms.js';
import { probeFailure } from '../evidence/probe.js';
import { isOutcome, judgeObjects, objectEvidence } from './shared/objects.js';

/**
 * No object is encrypted under a KMS key that is disabled, pending deletion or gone: that data
 * cannot be read now, and will be lost for good when a pending deletion completes.
 *
 * - PASS: every KMS key that objects use is Enabled (or there are no KMS-encrypted objects).
 * - FAIL (critical): objects under a key that is Disabled, PendingDeletion,
 *   PendingReplicaDeletion, Unavailable or missing (`NotFoundException`).
 * - ERROR: no unusable key found, but DescribeKey was denied or failed for some key, or some
 *   objects were not seen or their key is unknown (S3 Inventory has no KMS key column).
 * - SKIPPED: objects were not scanned.
 */
export const rule: Rule = {
  id: 's3-objects-kms-key-unusable',
  title: 'No objects are encrypted under an unusable KMS key',
  severity: 'critical',
  resourceType: 'AWS::S3::Bucket',
  description: 'Checks the state of every KMS key that objects of the bucket are encrypted under.',
  rationale:
    'An object is only as available as its key. A disabled key makes objects unreadable today; a key pending deletion makes them unrecoverable once the waiting period ends, even if the bucket default was changed long ago.',
  remediation: {
    text: 'Cancel the deletion and re-enable the key, then re-encrypt the affected objects under a healthy key (copy in place, or UpdateObjectEncryption for SSE-KMS objects).',
    cli: `aws kms cancel-key-deletion --key-id KEY_ARN
aws kms enable-key --key-id KEY_ARN`,
    cloudformation: `ObjectKey:
  Type: AWS::KMS::Key
  DeletionPolicy: Retain
  UpdateReplacePolicy: Retain
  Properties:
    Enabled: true`,
  },
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/update-sse-encryption.html',
  ],
  evidence: ['objects', 'kms.describe'],
  directoryBuckets: {
    skipped:
      'objects of directory buckets are not swept (zonal endpoints and CreateSession); their one KMS key is judged by s3-bucket-kms-key-usable',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const objects = objectEvidence(context);
    if (isOutcome(objects)) return objects;
    const lost: { keyArn: string; state: string; objects: number; examples: string[] }[] = [];
    const unknown: string[] = [];
    for (const [keyArn, tally] of Object.entries(objects.byKmsKey)) {
      const key = context.kmsKeys[keyArn];
      if (!key) {
        unknown.push(`${keyArn} (not described)`);
        continue;
      }
      if ('absent' in key.describe) {
        lost.push({
          keyArn,
          state: 'missing',
          objects: tally.count,
          examples: tally.examples.slice(0, 5),
        });
      } else if ('ok' in key.describe) {
        const state = key.describe.ok.KeyState ?? 'unknown';
        if (UNUSABLE_KEY_STATES.has(state))
          lost.push({ keyArn, state, objects: tally.count, examples: tally.examples.slice(0, 5) });
      } else {
        unknown.push(`${keyArn} (${probeFailure(key.describe)})`);
      }
    }
    const count = lost.reduce((n, l) => n + l.objects, 0);
    return judgeObjects(objects, {
      scanTime: context.scanTime,
      needs: { kmsKeys: true },
      ...(lost.length > 0
        ? {
            violation: {
              status: 'FAIL',
              message: `Bucket ${name} holds ${count} objects under unusable KMS keys: ${lost.map((l) => `${l.keyArn} is ${l.state}`).join('; ')}.`,
              details: { lost },
            },
          }
        : {}),
      ...(unknown.length > 0
        ? {
            error: {
              status: 'ERROR',
              message: `Could not read the state of every key that objects of bucket ${name} use: ${unknown.join('; ')}.`,
            },
          }
        : {}),
      noneFound: `No object of bucket ${name} is under an unusable KMS key`,
      pass: `Every KMS key that objects of bucket ${name} use is enabled (${Object.keys(objects.byKmsKey).length} keys).`,
    });
  },
};
