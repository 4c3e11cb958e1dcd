import type { Rule } from '../engine/types.js';
import { isOutcome, judgeObjects, objectEvidence, total } from './shared/objects.js';

/**
 * No noncurrent object version is unencrypted or SSE-C: re-encrypting by copy-in-place writes a
 * new version and leaves the old one as it was.
 *
 * - PASS: versions were scanned and none is unencrypted or SSE-C.
 * - FAIL: noncurrent versions without encryption or with SSE-C exist.
 * - ERROR: none found, but some versions could not be classified.
 * - SKIPPED: objects were not scanned, or not with `--versions`.
 */
export const rule: Rule = {
  id: 's3-object-versions-unencrypted',
  title: 'No noncurrent object versions are unencrypted',
  severity: 'high',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks noncurrent object versions (ListObjectVersions + HeadObject with VersionId) for missing encryption or SSE-C.',
  rationale:
    'In a versioned bucket a compliant current version says nothing about older ones: a copy-in-place re-encryption creates a new version and keeps the old plaintext or SSE-C version until it is deleted.',
  remediation: {
    text: 'Delete the old plaintext or SSE-C versions once their re-encrypted copies exist, or expire noncurrent versions with a lifecycle rule.',
    cli: `aws s3api delete-object --bucket BUCKET --key KEY --version-id VERSION_ID`,
    cloudformation: `Bucket:
  Type: AWS::S3::Bucket
  Properties:
    LifecycleConfiguration:
      Rules:
        - Id: ExpireNoncurrentVersions
          Status: Enabled
          NoncurrentVersionExpiration:
            NoncurrentDays: 30`,
  },
  references: ['https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html'],
  evidence: ['objects'],
  directoryBuckets: {
    skipped: 'directory buckets have no versioning and no noncurrent versions',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const objects = objectEvidence(context);
    if (isOutcome(objects)) return objects;
    if (!objects.versions) {
      return {
        status: 'SKIPPED',
        message: `Object versions of bucket ${name} were not scanned (use --versions).`,
      };
    }
    const bad = total(objects.noncurrentByEncryption.NONE, objects.noncurrentByEncryption['SSE-C']);
    return judgeObjects(objects, {
      scanTime: context.scanTime,
      // An SSE-C version is a violation here, so a 400 that suggests SSE-C is one too.
      needs: { inferredSseCIsSeen: true },
      ...(bad.count > 0
        ? {
            violation: {
              status: 'FAIL',
              message: `Bucket ${name} keeps ${bad.count} noncurrent versions that are unencrypted or SSE-C, e.g. ${bad.examples.slice(0, 3).join(', ')}.`,
              details: {
                unencrypted: objects.noncurrentByEncryption.NONE,
                sseC: objects.noncurrentByEncryption['SSE-C'],
              },
            },
          }
        : {}),
      noneFound: `No weak noncurrent version found in bucket ${name}`,
      pass: `No noncurrent version of bucket ${name} is unencrypted or SSE-C.`,
    });
  },
};
