import type { Rule } from '../engine/types.js';
import { failNote, layerDetails, passNote } from './shared/layers.js';
import { readPolicy } from './shared/policy.js';

/**
 * Every request to the bucket that is not sent over TLS is denied, by the bucket policy or by
 * a resource control policy (RCP) on the account's path: IAM denies a request any of them denies.
 *
 * - PASS: explicit Deny statements with `aws:SecureTransport = false` cover every principal,
 *   every S3 action, the bucket ARN and `bucket/*` (aws-facts.md 3.3 `tlsEnforced`); the
 *   message and `details.enforcedBy` name the statements and their layer.
 * - FAIL: no policy denies, or some HTTP request stays allowed; `details.gaps` says which
 *   principals, actions and resources, and which statement came closest. The message says
 *   whether RCPs were read (and why not), and when an SCP covers the organisation's own
 *   principals only (an SCP never makes a PASS).
 * - ERROR: GetBucketPolicy was denied or failed, or the policy or an RCP is not a valid policy.
 */
export const rule: Rule = {
  id: 's3-bucket-tls-enforced',
  title: 'Bucket policy denies requests that do not use TLS',
  severity: 'high',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks that the bucket policy explicitly denies every S3 request made over plain HTTP, for all principals, all actions, the bucket and its objects.',
  rationale:
    'Without an explicit Deny on aws:SecureTransport = false, any principal that is allowed access (by an identity policy, an ACL or the bucket policy) can read and write over unencrypted HTTP. An Allow that requires TLS does not prevent this.',
  remediation: {
    text: 'Add a Deny statement for Principal "*", Action "s3:*", Resource bucket and bucket/*, with Condition Bool aws:SecureTransport "false". `s3scan policy --fix-tls` prints the policy with it added.',
    cli: `aws s3api get-bucket-policy --bucket BUCKET --query Policy --output text > policy.json
npx s3scan policy --bucket BUCKET --fix-tls policy.json > fixed.json
aws s3api put-bucket-policy --bucket BUCKET --policy file://fixed.json`,
    cloudformation: `BucketPolicy:
  Type: AWS::S3::BucketPolicy
  Properties:
    Bucket: !Ref Bucket
    PolicyDocument:
      Version: '2012-10-17'
      Statement:
        - Sid: DenyInsecureTransport
          Effect: Deny
          Principal: '*'
          Action: 's3:*'
          Resource:
            - !GetAtt Bucket.Arn
            - !Join ['', [!GetAtt Bucket.Arn, '/*']]
          Condition:
            Bool:
              aws:SecureTransport: 'false'`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-HTTP-HTTPS',
    'https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-ssl-requests-only.html',
    'https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule',
  ],
  evidence: ['policy'],
  directoryBuckets: {
    skipped:
      'Directory bucket policies authorise s3express actions (CreateSession and the bucket-level calls), not the s3: actions whose aws:SecureTransport denials this rule analyses; review them with IAM Access Analyzer',
  },
  evaluate(context) {
    const name = context.bucket.name;
    const policy = readPolicy(context, `Could not judge TLS enforcement of bucket ${name}`);
    if ('status' in policy) return policy;
    if ('absent' in policy) {
      return {
        status: 'FAIL',
        message: `Bucket ${name} has no bucket policy, so requests over plain HTTP are not denied.${failNote(policy, 'tlsEnforced')}`,
        details: { policy: policy.absent, ...layerDetails(policy, 'tlsEnforced') },
      };
    }
    const { analysis } = policy;
    const gaps = analysis.gaps.filter((g) => g.verdict === 'tlsEnforced');
    if (analysis.tlsEnforced && analysis.tlsThroughAccessPointsOnly) {
      return {
        status: 'PASS',
        message: `Bucket ${name} denies every request not made through an access point${passNote(policy, 'tlsEnforced')}, and access points accept HTTPS only: plain HTTP cannot reach it (TLS-only by construction).`,
        details: { ...layerDetails(policy, 'tlsEnforced'), tlsBy: 'access-points-only' },
      };
    }
    if (analysis.tlsEnforced) {
      return {
        status: 'PASS',
        message: `Bucket ${name} denies every request that does not use TLS${passNote(policy, 'tlsEnforced')}.`,
        details: layerDetails(policy, 'tlsEnforced'),
      };
    }
    return {
      status: 'FAIL',
      message: `Bucket ${name} does not deny every request over plain HTTP: ${gaps[0]?.reason ?? 'no covering Deny'}.${failNote(policy, 'tlsEnforced')}`,
      details: { gaps, ...layerDetails(policy, 'tlsEnforced') },
    };
  },
};
