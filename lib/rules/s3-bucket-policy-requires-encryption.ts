import type { Rule } from '../engine/types.js';
import { failNote, layerDetails, passNote } from './shared/layers.js';
import { readPolicy } from './shared/policy.js';

/**
 * The bucket policy rejects uploads that carry no server-side-encryption header.
 *
 * - PASS: every principal's `PutObject` without an SSE header is explicitly denied
 *   (aws-facts.md 3.3 `sseEnforced: true`).
 * - FAIL: no policy, or header-less uploads stay allowed; `details.gaps` explains near misses.
 * - ERROR: GetBucketPolicy was denied or failed, or the stored policy is not a valid policy.
 *
 * Note: since 2023 S3 encrypts every new object anyway; this rule is about making uploaders
 * state the encryption they want. Such a policy also rejects uploads that rely on the bucket
 * default, which is why its default severity is low.
 */
export const rule: Rule = {
  id: 's3-bucket-policy-requires-encryption',
  title: 'Bucket policy requires a server-side encryption header on uploads',
  severity: 'low',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that the bucket policy denies PutObject requests that do not carry an x-amz-server-side-encryption header.',
  rationale:
    'A policy that requires the header makes every writer choose the encryption explicitly, which some frameworks still expect. It judges request headers, not the encryption S3 applies: since 2023 every object is encrypted at least with SSE-S3.',
  remediation: {
    text: 'Add a Deny on s3:PutObject for bucket/* with Condition Null s3:x-amz-server-side-encryption "true". Make sure every writer sends the header first.',
    cli: `aws s3api put-bucket-policy --bucket BUCKET --policy '{"Version":"2012-10-17","Statement":[{"Sid":"DenyUploadsWithoutSse","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::BUCKET/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}'`,
    cloudformation: `        - Sid: DenyUploadsWithoutSse
          Effect: Deny
          Principal: '*'
          Action: 's3:PutObject'
          Resource: !Join ['', [!GetAtt Bucket.Arn, '/*']]
          Condition:
            'Null':
              s3:x-amz-server-side-encryption: 'true'`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html',
  ],
  evidence: ['policy'],
  onlyWhenUploadEncryption: 'require-header',
  directoryBuckets: {
    skipped:
      'every object written to a directory bucket is encrypted (SSE-S3 or SSE-KMS) with the encryption of its CreateSession session, which the SDK takes from the bucket default; this rule analyses the s3:PutObject conditions of general purpose bucket policies',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const policy = readPolicy(
      context,
      `Could not judge the upload encryption policy of bucket ${name}`,
    );
    if ('status' in policy) return policy;
    if ('absent' in policy) {
      return {
        status: 'FAIL',
        message: `Bucket ${name} has no bucket policy, so uploads without an encryption header are accepted.${failNote(policy, 'sseEnforced')}`,
        details: layerDetails(policy, 'sseEnforced'),
      };
    }
    const { sseEnforced, gaps } = policy.analysis;
    if (sseEnforced === true) {
      return {
        status: 'PASS',
        message: `Bucket ${name} denies uploads that carry no server-side-encryption header${passNote(policy, 'sseEnforced')}.`,
        details: layerDetails(policy, 'sseEnforced'),
      };
    }
    return {
      status: 'FAIL',
      message:
        sseEnforced === false
          ? `Bucket ${name} has encryption conditions in its policy, but uploads without an encryption header are still allowed.${failNote(policy, 'sseEnforced')}`
          : `The bucket policy of ${name} does not require a server-side-encryption header on uploads.${failNote(policy, 'sseEnforced')}`,
      details: {
        sseEnforced,
        gaps: gaps.filter((g) => g.verdict === 'sseEnforced'),
        ...layerDetails(policy, 'sseEnforced'),
      },
    };
  },
};
