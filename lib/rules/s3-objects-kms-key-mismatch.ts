import type { Rule } from '../engine/types.js';
import { defaultKeyEvidence, kmsDefault } from './shared/encryption.js';
import { isOutcome, judgeObjects, objectEvidence } from './shared/objects.js';

/**
 * Objects use the bucket's default KMS key, not other keys.
 *
 * - PASS: every KMS-encrypted object uses the default key (an AWS managed key when the default
 *   is `aws/s3`).
 * - FAIL: objects under other keys (key ARNs and counts in `details`).
 * - ERROR: the default encryption could not be read, a key's identity cannot be told, or some
 *   objects were not seen or their key is unknown (S3 Inventory has no KMS key column).
 * - SKIPPED: objects were not scanned, or the default encryption is not KMS.
 */
export const rule: Rule = {
  id: 's3-objects-kms-key-mismatch',
  title: 'Objects use the bucket default KMS key',
  severity: 'medium',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that KMS-encrypted objects are encrypted under the bucket default key rather than other keys.',
  rationale:
    'Objects under other keys escape the key policy, rotation and monitoring you set up for the bucket key; a key in another account means that account controls access to your data.',
  remediation: {
    text: 'Re-encrypt the objects under the default key (UpdateObjectEncryption changes the key of SSE-KMS objects in place), and pin the key in the bucket policy so uploads cannot choose another.',
    cli: `aws s3api update-object-encryption --bucket BUCKET --key KEY --object-encryption '{"SSEKMS":{"KMSKeyArn":"DEFAULT_KEY_ARN","BucketKeyEnabled":true}}'`,
    cloudformation: `# Pin the key for new uploads in the bucket policy:
#   Condition: { ArnNotEqualsIfExists: { s3:x-amz-server-side-encryption-aws-kms-key-id: !GetAtt BucketKey.Arn } }`,
  },
  references: ['https://docs.aws.amazon.com/AmazonS3/latest/userguide/update-sse-encryption.html'],
  evidence: ['objects', 'encryption', 'kms.describe'],
  directoryBuckets: {
    skipped:
      "a directory bucket's objects can use only the bucket's one customer managed key: a request naming another key fails with 400",
  },
  evaluate(context) {
    const name = context.bucket.name;
    const objects = objectEvidence(context);
    if (isOutcome(objects)) return objects;
    const encryption = kmsDefault(context, 'has no default KMS key to compare objects with');
    if ('status' in encryption) return encryption;
    const defaultKey = defaultKeyEvidence(context);
    const defaultArn =
      defaultKey && 'ok' in defaultKey.describe
        ? (defaultKey.describe.ok.Arn ?? defaultKey.ref)
        : context.bucket.defaultKmsKeyRef;
    const others: { keyArn: string; objects: number }[] = [];
    const unknown: string[] = [];
    for (const [keyArn, tally] of Object.entries(objects.byKmsKey)) {
      if (encryption.awsManagedKey) {
        // The ARN of aws/s3 is never asked for (DescribeKey on the alias can create the key);
        // the object key's own KeyManager tells whether it is AWS managed.
        const facts = context.kmsKeys[keyArn];
        if (!facts || !('ok' in facts.describe)) unknown.push(keyArn);
        else if (facts.describe.ok.KeyManager !== 'AWS')
          others.push({ keyArn, objects: tally.count });
      } else if (keyArn !== defaultArn) {
        others.push({ keyArn, objects: tally.count });
      }
    }
    return judgeObjects(objects, {
      scanTime: context.scanTime,
      needs: { kmsKeys: true },
      ...(others.length > 0
        ? {
            violation: {
              status: 'FAIL',
              message: `Bucket ${name} holds ${others.reduce((n, o) => n + o.objects, 0)} objects under keys other than its default: ${others.map((o) => `${o.keyArn} (${o.objects})`).join(', ')}.`,
              details: { defaultKey: defaultArn ?? 'aws/s3', others },
            },
          }
        : {}),
      ...(unknown.length > 0
        ? {
            error: {
              status: 'ERROR',
              message: `Could not tell whether the keys of some objects of bucket ${name} are AWS managed: ${unknown.join(', ')}.`,
            },
          }
        : {}),
      noneFound: `No object of bucket ${name} is under a key other than its default`,
      pass: `Every KMS-encrypted object of bucket ${name} uses the default key.`,
    });
  },
};
