import type { Rule } from '../engine/types.js';
import { coverage, isOutcome, judgeObjects, objectEvidence } from './shared/objects.js';

/**
 * No current object is stored unencrypted (plaintext objects written before 2023 to buckets
 * without default encryption: HEAD shows no `ServerSideEncryption`).
 *
 * Objects with S3 Encryption Client metadata and no server-side layer (`CLIENT-SIDE`) count
 * as encrypted: their bytes were encrypted before upload.
 *
 * - PASS: every object in scope was classified and is encrypted.
 * - FAIL: at least one object has no server-side encryption (count, bytes, examples).
 * - ERROR: no unencrypted object was found, but some objects were not seen (HEAD denied or
 *   failed, a 400 that only suggests SSE-C, a listing that stopped): they might be plaintext.
 * - SKIPPED: objects were not scanned.
 */
export const rule: Rule = {
  id: 's3-objects-unencrypted',
  title: 'No objects are stored without encryption',
  severity: 'high',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks, with HeadObject on every object or a deterministic sample, that no object lacks server-side encryption.',
  rationale:
    'Since 2023-01-05 S3 encrypts every new object, but objects written earlier to buckets without default encryption are still plaintext, and enabling default encryption never re-encrypts them.',
  remediation: {
    text: 'Re-encrypt the listed objects by copying them over themselves (or with S3 Batch Operations); the copy picks up the bucket default encryption. With versioning, delete the old plaintext versions too.',
    cli: `aws s3 cp s3://BUCKET/KEY s3://BUCKET/KEY --sse aws:kms --sse-kms-key-id KEY_ARN --metadata-directive COPY`,
    cloudformation: `# Objects are data, not stack resources: use an S3 Batch Operations job (S3PutObjectCopy)
# over an S3 Inventory manifest to re-encrypt existing objects.`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html',
    'https://repost.aws/knowledge-center/s3-existing-objects-default-encryption',
  ],
  evidence: ['objects'],
  directoryBuckets: {
    skipped:
      'objects of directory buckets are not swept: they are reached through zonal endpoints and CreateSession, and every object there is server-side encrypted',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const objects = objectEvidence(context);
    if (isOutcome(objects)) return objects;
    const plaintext = objects.byEncryption.NONE;
    // V1/V2 clients may keep every marker in `<key>.instruction`: say so rather than guess.
    const instructionFiles = objects.clientSide.instructionFiles ?? 0;
    const caveat =
      instructionFiles > 0
        ? ` The bucket also holds ${instructionFiles} S3 Encryption Client instruction files (<key>.instruction): their sibling objects are encrypted client-side although they carry no marker themselves.`
        : '';
    return judgeObjects(objects, {
      scanTime: context.scanTime,
      ...(plaintext && plaintext.count > 0
        ? {
            violation: {
              status: 'FAIL',
              message: `Bucket ${name} holds ${plaintext.count} unencrypted objects (${plaintext.bytes} bytes) among ${coverage(objects)}, e.g. ${plaintext.examples.slice(0, 3).join(', ')}.${caveat}`,
              details: {
                unencrypted: plaintext,
                mode: objects.mode,
                ...(objects.plaintextVerified
                  ? { plaintextVerified: objects.plaintextVerified }
                  : {}),
              },
            },
          }
        : {}),
      noneFound: `No unencrypted object found in bucket ${name}`,
      pass: `Every object of bucket ${name} is encrypted (${coverage(objects)}).`,
    });
  },
};
