import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACCESS_POINT_IAM_ACTIONS } from '../../lib/collect/access-points.js';
import { S3_IAM_ACTIONS } from '../../lib/collect/buckets.js';
import { KMS_IAM_ACTIONS } from '../../lib/collect/kms.js';
import { OBJECT_IAM_ACTIONS } from '../../lib/collect/objects/sweep.js';
import { resolve, validateTemplate } from '../helpers/cfn.js';

/**
 * The member role s3scan assumes in each account (deploy/): it grants exactly the read-only
 * actions lib/collect declares, only to the scanner's role with the ExternalId, judged by
 * @cloud-copilot/iam-simulate (an IAM evaluator nobody here wrote).
 */
const MEMBER = '222222222222';
const SCANNER = 'arn:aws:iam::111111111111:role/s3scan-scan';
const EXTERNAL_ID = 'org-secret-1';

type Template = {
  Parameters: Record<string, unknown>;
  Conditions?: Record<string, { 'Fn::Equals': [unknown, string] }>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};
const load = (file: string) =>
  parse(readFileSync(join(process.cwd(), 'deploy', file), 'utf8')) as Template;
const role = load('member-role.yml');
const stackSet = load('member-role-stackset.yml');

/** The role as CloudFormation would create it with these parameters. */
function memberRole(
  objectAccess: 'all' | 'none',
  scannerRoleArn = SCANNER,
  importFindings = false,
) {
  const names = {
    ScannerAccountId: { ref: '111111111111', arn: '' },
    ScannerRoleArn: { ref: scannerRoleArn, arn: '' },
    ExternalId: { ref: EXTERNAL_ID, arn: '' },
    RoleName: { ref: 's3scan-read', arn: '' },
    ObjectAccess: { ref: objectAccess, arn: '' },
    ImportToSecurityHub: { ref: String(importFindings), arn: '' },
  };
  return resolve(
    role.Resources.MemberRole?.Properties,
    names,
    { 'AWS::Partition': 'aws', 'AWS::AccountId': MEMBER },
    {
      ReadObjects: objectAccess === 'all',
      ImportFindings: importFindings,
    },
  ) as {
    AssumeRolePolicyDocument: unknown;
    Policies: { PolicyName: string; PolicyDocument: { Statement: { Action: string[] }[] } }[];
  };
}

const declared = (objects: boolean) =>
  [
    ...S3_IAM_ACTIONS,
    ...KMS_IAM_ACTIONS,
    ...ACCESS_POINT_IAM_ACTIONS,
    ...(objects ? OBJECT_IAM_ACTIONS : []),
  ].sort();

async function decide(
  action: string,
  resource: string,
  policies: { name: string; policy: unknown }[],
  extra: { resourcePolicy?: unknown; principal?: string; context?: Record<string, string> } = {},
) {
  const result = await runSimulation(
    {
      request: {
        principal: extra.principal ?? `arn:aws:iam::${MEMBER}:role/s3scan-read`,
        action,
        resource: { resource, accountId: MEMBER },
        contextVariables: extra.context ?? {},
      },
      identityPolicies: policies as never,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(extra.resourcePolicy ? { resourcePolicy: extra.resourcePolicy as never } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

describe('deploy/member-role.yml and its StackSet', () => {
  it('use only resource types and property names CloudFormation knows', () => {
    expect(validateTemplate(role as never)).toEqual([]);
    expect(validateTemplate(stackSet as never)).toEqual([]);
  });

  it.each([
    ['all', true],
    ['none', false],
  ] as const)(
    'grant exactly the actions lib/collect declares (ObjectAccess %s)',
    (access, objects) => {
      const granted = memberRole(access)
        .Policies.flatMap((p) => p.PolicyDocument.Statement)
        .flatMap((s) => s.Action)
        .sort();
      expect(granted).toEqual(declared(objects));
    },
  );

  it('with ImportToSecurityHub, adds one write: the account’s own findings to its own Security Hub', async () => {
    // Prepare
    const policies = memberRole('all', SCANNER, true).Policies.map((p) => ({
      name: p.PolicyName,
      policy: p.PolicyDocument,
    }));
    const product = (account: string, region = 'eu-west-1') =>
      `arn:aws:securityhub:${region}:${account}:product/${account}/default`;

    // Act
    const own = await decide('securityhub:BatchImportFindings', product(MEMBER), policies);
    const otherRegion = await decide(
      'securityhub:BatchImportFindings',
      product(MEMBER, 'us-east-1'),
      policies,
    );
    const other = await decide(
      'securityhub:BatchImportFindings',
      product('333333333333'),
      policies,
    );
    const withoutIt = await decide(
      'securityhub:BatchImportFindings',
      product(MEMBER),
      memberRole('all').Policies.map((p) => ({ name: p.PolicyName, policy: p.PolicyDocument })),
    );
    const update = await decide('securityhub:BatchUpdateFindings', '*', policies);

    // Assess
    expect([own, otherRegion, other, withoutIt, update]).toEqual([
      'Allowed',
      'Allowed',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
    ]);
  });

  it('lets the role read posture and objects, and refuses every write (iam-simulate)', async () => {
    // Prepare
    const policies = memberRole('all').Policies.map((p) => ({
      name: p.PolicyName,
      policy: p.PolicyDocument,
    }));
    const resourceOf = (action: string) =>
      action.startsWith('kms:')
        ? `arn:aws:kms:us-east-1:${MEMBER}:key/11111111-2222-4333-8444-555555555555`
        : /Object/.test(action)
          ? 'arn:aws:s3:::data-bucket/key.txt'
          : action === 's3:GetAccessPointPolicy'
            ? `arn:aws:s3:us-east-1:${MEMBER}:accesspoint/analytics`
            : action === 's3:GetMultiRegionAccessPointPolicy'
              ? `arn:aws:s3::${MEMBER}:accesspoint/mfzwi23gnjvgw.mrap`
              : action === 's3:ListAllMyBuckets' ||
                  action === 's3express:ListAllMyDirectoryBuckets' ||
                  action === 's3:ListAccessPoints' ||
                  action === 's3:ListMultiRegionAccessPoints'
                ? '*'
                : action.startsWith('s3express:')
                  ? `arn:aws:s3express:us-east-1:${MEMBER}:bucket/fast--use1-az4--x-s3`
                  : 'arn:aws:s3:::data-bucket';

    // A key's default key policy: it lets IAM policies of the account decide (KMS needs it).
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${MEMBER}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    };
    const ask = (action: string) =>
      decide(
        action,
        resourceOf(action),
        policies,
        action.startsWith('kms:') ? { resourcePolicy: keyPolicy } : {},
      );

    // Act + Assess
    for (const action of declared(true))
      expect([action, await ask(action)]).toEqual([action, 'Allowed']);
    for (const action of [
      's3:PutObject',
      's3:DeleteObject',
      's3:PutBucketPolicy',
      's3:PutEncryptionConfiguration',
      'kms:Decrypt',
      'kms:ScheduleKeyDeletion',
    ])
      expect([action, await ask(action)]).toEqual([action, 'ImplicitlyDenied']);
  });

  it('is assumable by the scanner with the ExternalId only (its trust policy, iam-simulate)', async () => {
    // Prepare: the scanner may call sts:AssumeRole; the trust policy decides.
    const trust = memberRole('all').AssumeRolePolicyDocument;
    const caller = [
      {
        name: 'scanner',
        policy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
        },
      },
    ];
    const roleArn = `arn:aws:iam::${MEMBER}:role/s3scan-read`;
    const attempt = (principal: string, externalId?: string) =>
      decide('sts:AssumeRole', roleArn, caller, {
        principal,
        resourcePolicy: trust,
        // AWS sets aws:PrincipalArn on every request; the simulator is told it.
        context: {
          'aws:PrincipalArn': principal,
          ...(externalId ? { 'sts:ExternalId': externalId } : {}),
        },
      });

    // Act + Assess
    expect(await attempt(SCANNER, EXTERNAL_ID)).toBe('Allowed');
    expect(await attempt(SCANNER)).not.toBe('Allowed');
    expect(await attempt(SCANNER, 'guessed')).not.toBe('Allowed');
    expect(await attempt('arn:aws:iam::333333333333:role/other', EXTERNAL_ID)).not.toBe('Allowed');
    // Another role of the scanner's own account is not the scanner.
    expect(await attempt('arn:aws:iam::111111111111:role/developer', EXTERNAL_ID)).not.toBe(
      'Allowed',
    );
  });

  it('admits the deployed stack’s three step roles by one ARN pattern, and nothing else of that account', async () => {
    // Prepare
    const trust = memberRole(
      'all',
      'arn:aws:iam::111111111111:role/s3scan-prod-*',
    ).AssumeRolePolicyDocument;
    const caller = [
      {
        name: 'step',
        policy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
        },
      },
    ];
    const attempt = (principal: string) =>
      decide('sts:AssumeRole', `arn:aws:iam::${MEMBER}:role/s3scan-read`, caller, {
        principal,
        resourcePolicy: trust,
        context: { 'aws:PrincipalArn': principal, 'sts:ExternalId': EXTERNAL_ID },
      });

    // Act + Assess
    for (const step of ['enumerate', 'scan-bucket', 'finalize'])
      expect(await attempt(`arn:aws:iam::111111111111:role/s3scan-prod-${step}`)).toBe('Allowed');
    expect(await attempt('arn:aws:iam::111111111111:role/s3scan-dev-enumerate')).not.toBe(
      'Allowed',
    );
  });

  it('caps sessions at one hour (role chaining cannot last longer) and needs an ExternalId', () => {
    expect(role.Resources.MemberRole?.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Parameters.ExternalId).toMatchObject({ NoEcho: true, MinLength: 2 });
  });

  it('deploys through a service-managed StackSet: auto-deployment to OUs, one region, the same parameters', () => {
    // Act
    const props = stackSet.Resources.MemberRoleStackSet?.Properties as {
      PermissionModel: string;
      AutoDeployment: { Enabled: boolean };
      Capabilities: string[];
      Parameters: { ParameterKey: string }[];
      StackInstancesGroup: { Regions: unknown[]; DeploymentTargets: Record<string, unknown> }[];
    };

    // Assess
    expect(props.PermissionModel).toBe('SERVICE_MANAGED');
    expect(props.AutoDeployment.Enabled).toBe(true);
    expect(props.Capabilities).toEqual(['CAPABILITY_NAMED_IAM']);
    expect(props.StackInstancesGroup).toHaveLength(1);
    expect(props.StackInstancesGroup[0]?.Regions).toHaveLength(1);
    expect(props.StackInstancesGroup[0]?.DeploymentTargets).toHaveProperty('OrganizationalUnitIds');
    expect(props.Parameters.map((p) => p.ParameterKey).sort()).toEqual(
      Object.keys(role.Parameters).sort(),
    );
  });
});
