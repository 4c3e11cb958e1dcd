import type { AccountRule } from '../engine/types.js';

/**
 * Every account an organisation-wide scan covers was read: its role assumed and its buckets
 * listed. An account s3scan could not read is one ERROR finding, so a broken member role
 * never looks like an account without buckets.
 *
 * - PASS: the account was scanned (with the scanner's own credentials or the member role).
 * - ERROR: the member role could not be assumed, or ListBuckets failed; the message says what
 *   AWS answered and, for AccessDenied, both things it can mean (aws-facts: STS answers the
 *   same for a missing role and a trust policy that does not admit the scanner).
 * - FAIL: never; an account either was read or is an ERROR (its buckets carry the verdicts).
 * - SKIPPED: the account is not ACTIVE in AWS Organizations (suspended, pending closure).
 */
export const rule: AccountRule = {
  id: 's3-account-scanned',
  title: 'Every account of the organisation-wide scan could be read',
  severity: 'high',
  resourceType: 'AWS::::Account',
  description:
    'Checks that s3scan could assume its member role in the account and list its buckets, so every bucket of the account was judged.',
  rationale:
    'A member account without the role, or with a trust policy that does not admit the scanner, is an account nobody audits. Reporting it as an error keeps its buckets from silently dropping out of the posture and the drift.',
  remediation: {
    text: 'Deploy the member role to the account: the StackSet in deploy/member-role-stackset.yml for every member (auto-deployment to the OUs), or deploy/member-role.yml in the management account. Its trust policy must name the scanner role and, with --external-id, the same ExternalId. `s3scan accounts --org --check` assumes the role in every account.',
    cli: `aws cloudformation deploy --template-file deploy/member-role.yml --stack-name s3scan-member-role \\
  --capabilities CAPABILITY_NAMED_IAM \\
  --parameter-overrides ScannerRoleArn=arn:aws:iam::SCANNER_ACCOUNT:role/SCANNER_ROLE ExternalId=EXTERNAL_ID
npx s3scan accounts --accounts ACCOUNT_ID --check`,
    cloudformation: `MemberRoleStackSet:
  Type: AWS::CloudFormation::StackSet
  Properties:
    StackSetName: s3scan-member-role
    PermissionModel: SERVICE_MANAGED
    AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false }
    Capabilities: [CAPABILITY_NAMED_IAM]
    TemplateURL: https://BUCKET.s3.amazonaws.com/member-role.yml
    StackInstancesGroup:
      - DeploymentTargets: { OrganizationalUnitIds: [ROOT_OR_OU_ID] }
        Regions: [us-east-1]`,
  },
  references: [
    'https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html',
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html',
    'https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html',
  ],
  evidence: ['accounts'],
  evaluate({ account }) {
    const via =
      account.access === 'own'
        ? "the scanner's own credentials"
        : `role ${account.roleArn ?? 'unknown'}`;
    switch (account.status) {
      case 'scanned':
        return {
          status: 'PASS',
          message: `Account ${account.accountId} was scanned with ${via}: ${account.buckets} bucket${account.buckets === 1 ? '' : 's'}.`,
          details: { access: account.access, buckets: account.buckets },
        };
      case 'skipped':
        return {
          status: 'SKIPPED',
          message: `Account ${account.accountId} was not scanned: ${account.reason ?? 'it is not ACTIVE'}.`,
        };
      case 'failed':
        return {
          status: 'ERROR',
          message: `Account ${account.accountId} could not be scanned with ${via}, so none of its buckets were judged: ${(account.reason ?? 'unknown failure').replace(/\.$/, '')}.`,
          details: {
            access: account.access,
            ...(account.roleArn ? { roleArn: account.roleArn } : {}),
          },
        };
    }
  },
};
