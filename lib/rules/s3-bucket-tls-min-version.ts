import type { Rule } from '../engine/types.js';
import { failNote, layerDetails, passNote } from './shared/layers.js';
import { readPolicy } from './shared/policy.js';

/** AWS has refused TLS below 1.2 on every endpoint since 2024-02-27. */
const PLATFORM_MINIMUM = '1.2';

function versionAtLeast(actual: string, required: string): boolean {
  return Number(actual) >= Number(required);
}

/**
 * Requests must use at least the TLS version the organisation requires (`tls.minVersion`,
 * default 1.2).
 *
 * - PASS: the required minimum is at most 1.2, which AWS enforces on every endpoint since
 *   2024-02-27; or the bucket policy denies TLS versions below the required one for every
 *   principal, action and resource.
 * - FAIL: a minimum above 1.2 is required and the policy does not enforce it (or there is no policy).
 * - ERROR: a minimum above 1.2 is required and the policy could not be read or parsed.
 */
export const rule: Rule = {
  id: 's3-bucket-tls-min-version',
  title: 'Requests must use the required minimum TLS version',
  severity: 'low',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that requests to the bucket use at least the TLS version required by the configuration (tls.minVersion). AWS enforces TLS 1.2 everywhere; higher minimums need a bucket policy Deny on s3:TlsVersion.',
  rationale:
    'Older TLS versions have known weaknesses. Since 2024-02-27 AWS refuses TLS 1.0 and 1.1 on all endpoints, so only a stricter organisational minimum (TLS 1.3) needs a policy.',
  remediation: {
    text: 'Add a Deny statement for Principal "*", Action "s3:*", Resource bucket and bucket/*, with Condition NumericLessThan s3:TlsVersion set to the required version.',
    cli: `aws s3api put-bucket-policy --bucket BUCKET --policy '{"Version":"2012-10-17","Statement":[{"Sid":"DenyOldTls","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::BUCKET","arn:aws:s3:::BUCKET/*"],"Condition":{"NumericLessThan":{"s3:TlsVersion":"1.3"}}}]}'`,
    cloudformation: `        - Sid: DenyOldTls
          Effect: Deny
          Principal: '*'
          Action: 's3:*'
          Resource:
            - !GetAtt Bucket.Arn
            - !Join ['', [!GetAtt Bucket.Arn, '/*']]
          Condition:
            NumericLessThan:
              s3:TlsVersion: '1.3'`,
  },
  references: [
    'https://aws.amazon.com/blogs/storage/enforcing-encryption-in-transit-with-tls1-2-or-higher-with-amazon-s3/',
    'https://repost.aws/knowledge-center/s3-enforce-modern-tls',
  ],
  evidence: ['policy'],
  directoryBuckets: {
    skipped:
      'Directory bucket policies authorise s3express actions, not the s3: actions whose TLS version conditions this rule analyses',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const required = context.settings.minTlsVersion;
    if (versionAtLeast(PLATFORM_MINIMUM, required)) {
      return {
        status: 'PASS',
        message: `Bucket ${name} accepts only TLS ${PLATFORM_MINIMUM} or later, which AWS enforces on every endpoint (required: ${required}).`,
        details: { required, enforcedBy: 'aws-platform' },
      };
    }
    const policy = readPolicy(context, `Could not judge the TLS minimum of bucket ${name}`);
    if ('status' in policy) return policy;
    if ('absent' in policy) {
      return {
        status: 'FAIL',
        message: `Bucket ${name} has no bucket policy, so TLS ${PLATFORM_MINIMUM} is accepted although ${required} is required.${failNote(policy, 'tlsMinVersion')}`,
        details: { required, ...layerDetails(policy, 'tlsMinVersion') },
      };
    }
    const actual = policy.analysis.tlsMinVersion;
    if (actual && versionAtLeast(actual, required)) {
      return {
        status: 'PASS',
        message: `Bucket ${name} denies TLS versions below ${actual} (required: ${required})${passNote(policy, 'tlsMinVersion')}.`,
        details: { required, tlsMinVersion: actual, ...layerDetails(policy, 'tlsMinVersion') },
      };
    }
    return {
      status: 'FAIL',
      message: `Bucket ${name} accepts TLS ${actual ?? PLATFORM_MINIMUM} although ${required} is required.${failNote(policy, 'tlsMinVersion')}`,
      details: {
        required,
        tlsMinVersion: actual,
        gaps: policy.analysis.gaps.filter((g) => g.verdict === 'tlsMinVersion'),
        ...layerDetails(policy, 'tlsMinVersion'),
      },
    };
  },
};
