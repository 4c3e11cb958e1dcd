import type { BucketContext, PolicyView, Rule, RuleOutcome } from '../engine/types.js';
import { defaultEncryption, defaultKeyEvidence } from './shared/encryption.js';
import { layerDetails } from './shared/layers.js';
import { readPolicy } from './shared/policy.js';

/**
 * This PASS rests on the bucket policy alone when the RCPs could not be read: one that rejects
 * header-less uploads would not be seen, so the message says so.
 */
function unreadRcps(view: PolicyView): string {
  const rcp = 'layers' in view ? view.layers?.rcp : undefined;
  return rcp?.state === 'not-read'
    ? ` RCPs were not read (${rcp.reason}), so one that rejects such uploads would not be seen.`
    : '';
}

/** The clients that send no encryption header and rely on the bucket default. */
const HEADERLESS_CLIENTS =
  'PutObject without x-amz-server-side-encryption (aws s3 cp and most SDK uploads by default), CopyObject without it (copies do not carry the source encryption into the request), and multipart uploads whose CreateMultipartUpload sends none';

/**
 * Bucket policies are evaluated before default encryption: a policy that requires an SSE
 * header, or pins a KMS key, judges the request's headers, so it rejects uploads that carry
 * none even though the bucket default would have encrypted them, and a pin on a key other than
 * the default key makes the default unusable. This rule finds those conflicts.
 *
 * It is the counterpart of `s3-bucket-policy-requires-encryption`: a policy that requires the
 * header passes that rule and fails this one. Keep the one that matches how your writers work.
 *
 * - PASS: no bucket policy, or one that admits uploads without an encryption header.
 * - FAIL: the policy denies uploads without an encryption header (`sseEnforced`), naming the
 *   statements and the clients that break; severity medium when it also pins a KMS key other
 *   than the bucket's default key, or pins a key while the default is not KMS.
 * - ERROR: GetBucketPolicy was denied or failed, the stored policy is not valid, or the policy
 *   pins a key and the default encryption could not be read.
 */
export const rule: Rule = {
  id: 's3-bucket-policy-allows-default-encryption',
  title: 'Bucket policy admits uploads that rely on default encryption',
  severity: 'low',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that the bucket policy does not reject uploads that carry no encryption header, which default encryption would have encrypted, and that a pinned KMS key is the default key.',
  rationale:
    'S3 evaluates the bucket policy before it applies default encryption. A Deny on a missing x-amz-server-side-encryption header (or a KMS key pin) turns away every writer that relies on the default, with an AccessDenied that looks like a permissions bug, and a pin on another key than the default one means no upload can ever get the default.',
  remediation: {
    text: `Either make every writer send the headers (ServerSideEncryption and SSEKMSKeyId on PutObject, CopyObject and CreateMultipartUpload), or let the default do the work: deny only uploads that name another algorithm or key (add Null "false" on the same key to the Deny), and make the pinned key the bucket's default key. Clients that break today: ${HEADERLESS_CLIENTS}.`,
    cli: `# Writers: name the encryption on every upload
aws s3 cp FILE s3://BUCKET/KEY --sse aws:kms --sse-kms-key-id KEY_ARN
# Or the bucket: default to the pinned key, and deny only explicit other choices
aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"KEY_ARN"},"BucketKeyEnabled":true}]}'
aws s3api put-bucket-policy --bucket BUCKET --policy '{"Version":"2012-10-17","Statement":[{"Sid":"DenyOtherKmsKeys","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::BUCKET/*","Condition":{"ArnNotEquals":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"KEY_ARN"},"Null":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"false"}}}]}'`,
    cloudformation: `        - Sid: DenyOtherKmsKeys
          Effect: Deny
          Principal: '*'
          Action: 's3:PutObject'
          Resource: !Join ['', [!GetAtt Bucket.Arn, '/*']]
          Condition:
            ArnNotEquals:
              s3:x-amz-server-side-encryption-aws-kms-key-id: !GetAtt BucketKey.Arn
            'Null':
              s3:x-amz-server-side-encryption-aws-kms-key-id: 'false'`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html',
  ],
  evidence: ['policy', 'encryption'],
  onlyWhenUploadEncryption: 'use-bucket-default',
  directoryBuckets: {
    skipped:
      'this rule analyses the s3:PutObject conditions of general purpose bucket policies; directory bucket policies govern s3express:CreateSession',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const policy = readPolicy(
      context,
      `Could not tell whether the bucket policy of ${name} rejects uploads that rely on default encryption`,
    );
    if ('status' in policy) return policy;
    if ('absent' in policy) {
      return {
        status: 'PASS',
        message: `Bucket ${name} has no bucket policy, so uploads that rely on default encryption are accepted.${unreadRcps(policy)}`,
        details: layerDetails(policy, 'sseEnforced'),
      };
    }
    const { sseEnforced, kmsKeyEnforced, pinnedKmsKeyArns } = policy.analysis;
    if (sseEnforced !== true) {
      return {
        status: 'PASS',
        message: `The bucket policy of ${name} admits uploads without an encryption header; the default encryption applies to them.${unreadRcps(policy)}`,
        details: layerDetails(policy, 'sseEnforced'),
      };
    }
    const statements = policy.analysis.headerlessUploadDenials;
    const headerConflict = `The bucket policy of ${name} denies uploads that carry no encryption header${statements.length ? ` (${statements.join(', ')})` : ''}, although the bucket's default encryption would have encrypted them: bucket policies are evaluated before default encryption. This breaks ${HEADERLESS_CLIENTS}.`;
    if (kmsKeyEnforced !== true || pinnedKmsKeyArns.length === 0) {
      return { status: 'FAIL', message: headerConflict, details: { sseEnforced, statements } };
    }
    return keyConflict(context, headerConflict, { statements, pinnedKmsKeyArns });
  },
};

/** The header conflict, made worse when the pinned keys exclude the default key. */
function keyConflict(
  context: BucketContext,
  headerConflict: string,
  facts: { statements: string[]; pinnedKmsKeyArns: string[] },
): RuleOutcome {
  const encryption = defaultEncryption(context);
  const pinned = facts.pinnedKmsKeyArns.join(', ');
  if (encryption.kind === 'failed') {
    return {
      status: 'ERROR',
      message: `${headerConflict} It also pins ${pinned}, but the default encryption could not be read to compare: ${encryption.reason}.`,
    };
  }
  if (encryption.kind !== 'kms') {
    return {
      status: 'FAIL',
      severity: 'medium',
      message: `${headerConflict} It admits only uploads under ${pinned}, while the bucket defaults to ${encryption.kind === 'sse-s3' ? 'SSE-S3' : encryption.kind}: no upload can rely on the default. Make ${pinned} the default key.`,
      details: { ...facts, default: encryption.kind },
    };
  }
  const key = defaultKeyEvidence(context);
  const defaultArn = encryption.awsManagedKey
    ? 'aws/s3'
    : key && 'ok' in key.describe
      ? (key.describe.ok.Arn ?? key.ref)
      : (context.bucket.defaultKmsKeyRef ?? encryption.keyId ?? '');
  if (!facts.pinnedKmsKeyArns.includes(defaultArn)) {
    return {
      status: 'FAIL',
      severity: 'medium',
      message: `${headerConflict} It pins ${pinned}, not the default key ${defaultArn}: every upload that relies on the default, or names the default key, is denied. Make the pinned key the default key, or pin the default key.`,
      details: { ...facts, defaultKey: defaultArn },
    };
  }
  return {
    status: 'FAIL',
    message: `${headerConflict} The pinned key ${defaultArn} is the default key, so writers only need to name it.`,
    details: { ...facts, defaultKey: defaultArn },
  };
}
