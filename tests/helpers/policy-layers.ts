/**
 * Organisation policies as Organizations returns them (DescribePolicy `Content` is a JSON
 * string), with the AWS-published RCP examples verbatim (effective-policies.md 2.2), and the
 * per-account layers the collector records.
 */
import type {
  AccountPolicyLayers,
  OrganizationPolicy,
  PolicyTarget,
} from '../../lib/evidence/types.js';
import { ACCOUNT } from './evidence.js';

export const ORG_ID = 'o-a1b2c3d4e5';
export const ROOT_ID = 'r-ab12';
export const OU_ID = 'ou-ab12-11111111';
export const MANAGEMENT_ACCOUNT = '999988887777';

/** RCPX Restrict-access-to-only-HTTPS-connections-to-your-resources.json. */
export const RCP_HTTPS_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Deny',
      Principal: '*',
      Action: [
        's3:*',
        'sts:*',
        'kms:*',
        'sqs:*',
        'secretsmanager:*',
        'cognito-identity:*',
        'cognito-idp:*',
        'logs:*',
        'dynamodb:*',
        'ecr:*',
        'aoss:*',
      ],
      Resource: '*',
      Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } },
    },
  ],
});

/** RCPX Service-specific-controls/S3-Enforce-TLS-version.json (an array value). */
export const RCP_TLS_VERSION = (version = '1.2') =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: '*',
        Condition: { NumericLessThan: { 's3:TlsVersion': [version] } },
      },
    ],
  });

/** RCPX Service-specific-controls/S3-Deny-SSE-C.json. */
export const RCP_DENY_SSE_C = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'RestrictSSECObjectUploads',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: '*',
      Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
    },
  ],
});

/** RCPFullAWSAccess, attached everywhere once RCPs are enabled: an Allow that changes nothing. */
export const RCP_FULL_ACCESS = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

/** An SCP denying the organisation's principals any S3 call over plain HTTP (SCPs name no Principal). */
export const SCP_HTTPS_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DenyInsecureS3',
      Effect: 'Deny',
      Action: 's3:*',
      Resource: '*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
});

/** One attached policy as the collector records it. */
export function attached(
  id: string,
  name: string,
  content: string,
  target: PolicyTarget = { id: OU_ID, type: 'ORGANIZATIONAL_UNIT' },
  type: 'resource' | 'service' = 'resource',
): OrganizationPolicy {
  return {
    id,
    name,
    arn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT}:policy/${ORG_ID}/${type}_control_policy/${id}`,
    awsManaged: false,
    target,
    content,
  };
}

/** The layers of a member account under the root and one OU. */
export function memberLayers(
  rcps: OrganizationPolicy[],
  scps: OrganizationPolicy[] = [],
  accountId = ACCOUNT,
): AccountPolicyLayers {
  return {
    accountId,
    organizationId: ORG_ID,
    managementAccountId: MANAGEMENT_ACCOUNT,
    path: [
      { id: ROOT_ID, type: 'ROOT' },
      { id: OU_ID, type: 'ORGANIZATIONAL_UNIT' },
    ],
    rcps: {
      ok: [
        attached('p-RCPFullAWSAccess', 'RCPFullAWSAccess', RCP_FULL_ACCESS, {
          id: ROOT_ID,
          type: 'ROOT',
        }),
        ...rcps,
      ],
    },
    scps: { ok: scps },
  };
}
