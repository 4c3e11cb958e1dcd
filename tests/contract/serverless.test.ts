import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PAGE_PUBLISH_IAM_ACTIONS } from '../../lib/aws/publish-page.js';
import { ACCESS_POINT_IAM_ACTIONS } from '../../lib/collect/access-points.js';
import { S3_IAM_ACTIONS } from '../../lib/collect/buckets.js';
import { KMS_IAM_ACTIONS } from '../../lib/collect/kms.js';
import { OBJECT_IAM_ACTIONS } from '../../lib/collect/objects/sweep.js';
import { ORGANIZATIONS_IAM_ACTIONS } from '../../lib/collect/organization.js';
import { POLICY_LAYER_IAM_ACTIONS } from '../../lib/collect/policy-layers.js';
import { dashboardRoutes } from '../../lib/dashboard/routes.js';
import {
  KMS_DELETION_DETAIL_TYPE,
  KMS_POSTURE_EVENTS,
  S3_POSTURE_EVENTS,
} from '../../lib/events/cloudtrail.js';
import type { BucketEvidence, ScanEvidence } from '../../lib/evidence/types.js';
import { analyzePolicy } from '../../lib/policy/analyze.js';
import { JOB_IAM_ACTIONS } from '../../lib/remediation/jobs.js';
import { FIX_IAM_ACTIONS } from '../../lib/remediation/settings.js';
import { REPORT_STORE_IAM_ACTIONS } from '../../lib/report-store/s3.js';
import { evaluateScan } from '../../lib/scan/evaluate-scan.js';
import { dependencyCycles, resolve, validateTemplate } from '../helpers/cfn.js';
import { staticGraph } from '../helpers/static-graph.js';

// biome-ignore lint/suspicious/noExplicitAny: walking a parsed CloudFormation template
type Loose = any;

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Template {
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
  Resources: Record<
    string,
    {
      Type: string;
      Condition?: string;
      Properties: Record<string, unknown> & { PolicyDocument?: unknown };
    }
  >;
}

let template: Template;

/** `osls package --stage ci` as `npm run package` runs it: offline, no credentials. */
function packageStack(extra: string[]): void {
  execFileSync(join(root, 'node_modules/.bin/osls'), ['package', '--stage', 'ci', ...extra], {
    cwd: root,
    stdio: 'pipe',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    timeout: 120_000,
  });
}

/**
 * Every IAM statement of every role and managed policy in the packaged template, with the
 * objectAccess conditions at their defaults (all).
 */
function statements(
  remediation = false,
): { Effect: string; Action: string | string[]; Resource: unknown }[] {
  const conditions: Record<string, boolean> = {
    ...DEFAULT_CONDITIONS,
    RemediationEnabled: remediation,
  };
  const created = Object.entries(template.Resources)
    .filter(([name, r]) =>
      remediation
        ? name === 'RemediationRole'
        : r.Condition === undefined || conditions[r.Condition] !== false,
    )
    .map(([, r]) => r);
  const documents = created.flatMap((r) =>
    r.Type === 'AWS::IAM::Role'
      ? (
          (r.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[] | undefined) ??
          []
        ).map((p) => p.PolicyDocument)
      : r.Type === 'AWS::IAM::ManagedPolicy'
        ? [r.Properties.PolicyDocument as { Statement: unknown[] }]
        : [],
  );
  return documents.flatMap((d) =>
    d.Statement.map((s) => resolve(s, {}, {}, conditions)).filter(
      (s): s is { Effect: string; Action: string | string[]; Resource: unknown } =>
        typeof s === 'object' && s !== null && 'Effect' in s,
    ),
  );
}

/** The template's conditions with the default parameters. */
const DEFAULT_CONDITIONS = {
  UseStackUserPool: true,
  ObjectAccessAll: true,
  ObjectAccessInventory: false,
  UseConfigParameter: false,
  UseSlackParameter: false,
  ForwardFromOrganization: false,
  RemediationEnabled: false,
  RemediationPrincipalNamed: false,
};

const asList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** What the template's references resolve to in the examples: one account, one region. */
const names = {
  ReportBucket: { ref: 's3scan-reports-example', arn: 'arn:aws:s3:::s3scan-reports-example' },
  ReportKey: {
    ref: 'report-key',
    arn: 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-4333-8444-555555555555',
  },
  PageBucket: { ref: 's3scan-page-example', arn: 'arn:aws:s3:::s3scan-page-example' },
  PageKey: {
    ref: 'page-key',
    arn: 'arn:aws:kms:us-east-1:111122223333:key/99999999-2222-4333-8444-555555555555',
  },
  PageDistribution: {
    ref: 'E2EXAMPLE1234',
    arn: 'arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE1234',
  },
  'PageDistribution.DomainName': { ref: 'd111111abcdef8.cloudfront.net', arn: '' },
  DashboardUserPool: { ref: 'us-east-1_EXAMPLE', arn: '' },
  DashboardUserPoolClient: { ref: '1example23456789clientid', arn: '' },
  DashboardUserPoolDomain: { ref: 's3scan-ci-111122223333', arn: '' },
  HttpApi: { ref: 'abc123api', arn: '' },
  RemediationJobBucket: {
    ref: 's3scan-ci-jobs-example',
    arn: 'arn:aws:s3:::s3scan-ci-jobs-example',
  },
  RescanRole: {
    ref: 's3scan-ci-org-rescan',
    arn: 'arn:aws:iam::111122223333:role/s3scan-ci-org-rescan',
  },
  RemediationBatchRole: {
    ref: 's3scan-ci-remediation-batch',
    arn: 'arn:aws:iam::111122223333:role/s3scan-ci-remediation-batch',
  },
  AlertTopic: {
    ref: 'arn:aws:sns:us-east-1:111122223333:s3scan-AlertTopic-EXAMPLE',
    arn: 'arn:aws:sns:us-east-1:111122223333:s3scan-AlertTopic-EXAMPLE',
  },
};
const pseudo = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': '111122223333',
  'AWS::Region': 'us-east-1',
  'AWS::URLSuffix': 'amazonaws.com',
};

describe('serverless.yml, packaged by the real osls (offline)', () => {
  beforeAll(() => {
    // Package exactly as `npm run package` does; no credentials, no network.
    execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: 'pipe' });
    packageStack([]);
    execFileSync(process.execPath, [join(root, 'scripts/package-deploy.mjs')], {
      cwd: root,
      stdio: 'pipe',
    });
    template = JSON.parse(
      readFileSync(join(root, '.serverless/cloudformation-template-update-stack.json'), 'utf8'),
    );
  }, 180_000);

  it('names exactly the roles that assume member roles so the StackSet’s trust pattern admits them', () => {
    // Prepare
    const roles = Object.entries(template.Resources).filter(
      ([, r]) => r.Type === 'AWS::IAM::Role',
    ) as [
      string,
      {
        Properties: {
          RoleName?: string;
          Policies?: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } }[];
        };
      },
    ][];
    const assumesMembers = roles
      .filter(([, r]) =>
        (r.Properties.Policies ?? []).some((p) =>
          p.PolicyDocument.Statement.some(
            (st) =>
              st.Action === 'sts:AssumeRole' &&
              JSON.stringify(st.Resource).includes(':role/s3scan-read'),
          ),
        ),
      )
      .map(([id]) => id)
      .sort();
    const prefixed = roles
      .filter(([, r]) => String(r.Properties.RoleName ?? '').startsWith('s3scan-ci-org-'))
      .map(([id]) => id)
      .sort();

    // Assess
    expect(assumesMembers).toEqual([
      'EnumerateRole',
      'FinalizeRole',
      'RescanRole',
      'ScanBucketRole',
    ]);
    expect(prefixed).toEqual(assumesMembers);
    expect(JSON.stringify(template.Outputs?.MemberScannerRoles)).toContain(':role/s3scan-ci-org-*');
  });

  describe('continuous compliance: posture rules, the rescan queue and its function', () => {
    const props = (id: string) => template.Resources[id]?.Properties as Record<string, Loose>;

    it('matches exactly the operations the event reader acts on, failed calls excluded', () => {
      expect(props('S3PostureRule').EventPattern).toEqual({
        source: ['aws.s3'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['s3.amazonaws.com'],
          eventName: [...S3_POSTURE_EVENTS],
          errorCode: [{ exists: false }],
        },
      });
      expect(props('KmsPostureRule').EventPattern).toEqual({
        source: ['aws.kms'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          eventName: [...KMS_POSTURE_EVENTS],
          errorCode: [{ exists: false }],
        },
      });
      expect(props('KmsDeletionRule').EventPattern).toEqual({
        source: ['aws.kms'],
        'detail-type': [KMS_DELETION_DETAIL_TYPE],
      });
      for (const rule of ['S3PostureRule', 'KmsPostureRule', 'KmsDeletionRule'])
        expect(props(rule).Targets).toEqual([
          { Id: 'rescan-queue', Arn: { 'Fn::GetAtt': ['RescanQueue', 'Arn'] } },
        ]);
    });

    it('encrypts both queues, sends poison messages to the dead-letter queue, and lets only the rules in over TLS', () => {
      const queue = props('RescanQueue');
      const rescan = props('RescanLambdaFunction');
      expect(queue.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['ReportKey', 'Arn'] });
      expect(props('RescanDeadLetterQueue').KmsMasterKeyId).toEqual({
        'Fn::GetAtt': ['ReportKey', 'Arn'],
      });
      expect(queue.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': ['RescanDeadLetterQueue', 'Arn'] },
        maxReceiveCount: 3,
      });
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * rescan.Timeout);
      const statements = props('RescanQueuePolicy').PolicyDocument.Statement as Record<
        string,
        Loose
      >[];
      expect(statements.find((st) => st.Sid === 'DenyInsecureTransport')).toMatchObject({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      expect(statements.find((st) => st.Sid === 'PostureRulesOnly')).toMatchObject({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: {
          ArnEquals: {
            'aws:SourceArn': [
              { 'Fn::GetAtt': ['S3PostureRule', 'Arn'] },
              { 'Fn::GetAtt': ['KmsPostureRule', 'Arn'] },
              { 'Fn::GetAtt': ['KmsDeletionRule', 'Arn'] },
            ],
          },
        },
      });
      const keyPolicy = props('ReportKey').KeyPolicy.Statement as Record<string, Loose>[];
      expect(keyPolicy.find((st) => st.Sid === 'PostureEventsIntoTheQueue')).toMatchObject({
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      });
    });

    it('feeds the function in batches with a 60 s window and partial batch failures', () => {
      const mapping = Object.values(template.Resources).find(
        (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
      )?.Properties as Record<string, unknown>;
      expect(mapping).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': ['RescanQueue', 'Arn'] },
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 60,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(props('RescanLambdaFunction').Role).toEqual({ 'Fn::GetAtt': ['RescanRole', 'Arn'] });
    });

    it('gives the rescan function the scanner’s read-only set, its report store and the queue, nothing more', () => {
      const role = props('RescanRole');
      expect(role.ManagedPolicyArns).toContainEqual({ Ref: 'ScanReadPolicy' });
      const granted = (
        role.Policies as {
          PolicyName: string;
          PolicyDocument: { Statement: Record<string, Loose>[] };
        }[]
      ).flatMap((p) => p.PolicyDocument.Statement);
      const queue = granted.filter((st) =>
        asList(st.Action ?? []).some((a: unknown) => typeof a === 'string' && a.startsWith('sqs:')),
      );
      expect(queue).toEqual([
        {
          Effect: 'Allow',
          Action: [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:ChangeMessageVisibility',
          ],
          Resource: { 'Fn::GetAtt': ['RescanQueue', 'Arn'] },
        },
      ]);
    });

    it('admits other accounts’ events only from the organisation, and only when one is named', () => {
      const busPolicy = template.Resources.RescanBusPolicy;
      expect(busPolicy?.Condition).toBe('ForwardFromOrganization');
      expect(busPolicy?.Properties.Statement).toMatchObject({
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': '' } },
      });
      expect(template.Conditions?.ForwardFromOrganization).toEqual({
        'Fn::Not': [{ 'Fn::Equals': ['', ''] }],
      });
    });
  });

  it('packages the member-role StackSet and role templates beside the stack', () => {
    for (const name of ['member-role.yml', 'member-role-stackset.yml', 'rescan-forwarder.yml'])
      expect(readFileSync(join(root, '.serverless/deploy', name), 'utf8')).toBe(
        readFileSync(join(root, 'deploy', name), 'utf8'),
      );
  });

  it('runs every function on nodejs22.x, arm64, from its own bundle', () => {
    const functions = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      const [file, exportName] = String(fn.Properties.Handler).split(/\.(?=[^.]+$)/);
      expect(existsSync(join(root, `${file}.js`))).toBe(true);
      expect(exportName).toBe('handler');
    }
  });

  it('grants every IAM action the collectors declare', () => {
    const granted = new Set(
      statements()
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => asList(s.Action)),
    );
    for (const action of [
      ...S3_IAM_ACTIONS,
      ...KMS_IAM_ACTIONS,
      ...OBJECT_IAM_ACTIONS,
      ...POLICY_LAYER_IAM_ACTIONS,
      ...ACCESS_POINT_IAM_ACTIONS,
    ])
      expect(granted).toContain(action);
  });

  it('puts every dashboard route behind the JWT authorizer', () => {
    const routes = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::ApiGatewayV2::Route',
    );
    // Every route the code serves is deployed, and nothing else.
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      dashboardRoutes(() => {
        throw new Error('not called');
      })
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('JWT');
    const authorizer = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::ApiGatewayV2::Authorizer',
    );
    expect(authorizer?.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
    });
  });

  it('gives the HTTP-facing dashboard its own role that can only read reports', () => {
    const dashboard = template.Resources.DashboardApiLambdaFunction?.Properties as {
      Role: unknown;
    };
    expect(dashboard.Role).toEqual({ 'Fn::GetAtt': ['DashboardRole', 'Arn'] });
    const role = template.Resources.DashboardRole?.Properties as {
      Policies: { PolicyDocument: { Statement: { Action: string; Resource: unknown }[] } }[];
    };
    const granted = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
    expect(granted.map((st) => st.Action).sort()).toEqual([
      'kms:Decrypt',
      's3:GetObject',
      's3:ListBucket',
    ]);
    for (const statement of granted)
      expect(JSON.stringify(statement.Resource)).toMatch(/ReportBucket|ReportKey/);
    // Listing only the fix records (a bucket's fix history), nothing else of the store.
    expect(granted.find((st) => st.Action === 's3:ListBucket')).toMatchObject({
      Condition: { StringLike: { 's3:prefix': 'fixes/*' } },
    });
  });

  it.each([
    [
      'EnumerateLambdaFunction',
      'EnumerateRole',
      [
        's3:ListAllMyBuckets',
        's3:ListBucket',
        's3express:ListAllMyDirectoryBuckets',
        ...ORGANIZATIONS_IAM_ACTIONS,
      ],
    ],
    [
      'FinalizeLambdaFunction',
      'FinalizeRole',
      [...KMS_IAM_ACTIONS, ...POLICY_LAYER_IAM_ACTIONS, ...ACCESS_POINT_IAM_ACTIONS],
    ],
  ])(
    'gives %s its own role with only the account-wide reads it makes',
    (fn, roleName, accountWide) => {
      const fnProps = template.Resources[fn]?.Properties as { Role: unknown };
      expect(fnProps.Role).toEqual({ 'Fn::GetAtt': [roleName, 'Arn'] });
      const role = template.Resources[roleName]?.Properties as {
        Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[];
      };
      const onEverything = role.Policies.flatMap((p) => p.PolicyDocument.Statement).filter(
        (st) => st.Resource === '*',
      );
      expect(onEverything.flatMap((st) => st.Action).sort()).toEqual([...accountWide].sort());
    },
  );

  it.each(['ScanRole', 'FinalizeRole'])(
    'lets %s make every report-store call, on the report bucket only',
    (roleName) => {
      const role = template.Resources[roleName]?.Properties as {
        Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[];
      };
      // Conditional statements (Fn::If) resolved with the default parameters.
      const onReports = role.Policies.flatMap((p) => p.PolicyDocument.Statement)
        .map((st) => resolve(st as never, {}, {}, DEFAULT_CONDITIONS) as typeof st)
        .filter(
          (st) => typeof st === 'object' && JSON.stringify(st.Resource).includes('ReportBucket'),
        );
      const granted = new Set(onReports.flatMap((st) => st.Action));
      for (const action of REPORT_STORE_IAM_ACTIONS) expect(granted).toContain(action);
    },
  );

  it('lets finalize list the work area (per-object CSV chunks) of the report bucket only', () => {
    const role = template.Resources.FinalizeRole?.Properties as {
      Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[];
    };
    // Unconditioned: the whole bucket. (The alert ledger's listing is limited to alerts/.)
    const listing = role.Policies.flatMap((p) => p.PolicyDocument.Statement).filter(
      (st) => (st.Action ?? []).includes('s3:ListBucket') && !('Condition' in st),
    );
    expect(listing.map((st) => st.Resource)).toEqual([{ 'Fn::GetAtt': ['ReportBucket', 'Arn'] }]);
  });

  it('encrypts the alert topic with the report key', () => {
    expect(template.Resources.AlertTopic?.Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': ['ReportKey', 'Arn'],
    });
  });

  describe('what each role can and cannot do, simulated with @cloud-copilot/iam-simulate', () => {
    const REPORTS = names.ReportBucket.arn;
    const OTHER_KEY = 'arn:aws:kms:us-east-1:111122223333:key/99999999-9999-4999-8999-999999999999';
    const MACHINE = 'arn:aws:states:us-east-1:111122223333:stateMachine:s3scan-ci-scan';
    const CHILD = 'arn:aws:states:us-east-1:111122223333:execution:s3scan-ci-scan/ScanBuckets:0c1f';

    /** The role's inline policies and the managed policies of this template it attaches. */
    function policiesOf(roleName: string, conditions: Record<string, boolean>) {
      const role = template.Resources[roleName]?.Properties as {
        Policies?: { PolicyName: string; PolicyDocument: unknown }[];
        ManagedPolicyArns?: unknown[];
      };
      const managed = (role.ManagedPolicyArns ?? [])
        .map((arn) => (arn as { Ref?: string }).Ref)
        .filter((ref): ref is string => ref !== undefined && ref in template.Resources)
        .map((ref) => ({
          name: ref,
          document: template.Resources[ref]!.Properties.PolicyDocument,
        }));
      return [
        ...(role.Policies ?? []).map((p) => ({ name: p.PolicyName, document: p.PolicyDocument })),
        ...managed,
      ].map((p) => ({ name: p.name, policy: resolve(p.document, names, pseudo, conditions) }));
    }

    async function allowed(
      roleName: string,
      action: string,
      resource: string,
      conditions: Record<string, boolean> = DEFAULT_CONDITIONS,
      context: Record<string, string> = {},
    ): Promise<boolean> {
      const { runSimulation } = await import('@cloud-copilot/iam-simulate');
      const known = { ...DEFAULT_CONDITIONS, ...conditions };
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:iam::111122223333:role/${roleName}`,
            action,
            resource: { resource, accountId: '111122223333' },
            contextVariables: context,
          },
          identityPolicies: policiesOf(roleName, known),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          // KMS needs a key policy too: the report key's own, else the default key policy that
          // leaves access to IAM, so the identity policy alone decides.
          ...(action.startsWith('kms:')
            ? {
                resourcePolicy:
                  resource === names.ReportKey.arn
                    ? resolve(template.Resources.ReportKey?.Properties.KeyPolicy, names, pseudo)
                    : {
                        Version: '2012-10-17',
                        Statement: [
                          {
                            Effect: 'Allow',
                            Principal: { AWS: 'arn:aws:iam::111122223333:root' },
                            Action: 'kms:*',
                            Resource: '*',
                          },
                        ],
                      },
              }
            : {}),
        },
        {},
      );
      if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
      return result.overallResult === 'Allowed';
    }

    it.each([
      ['ScanRole', 's3:GetEncryptionConfiguration', 'arn:aws:s3:::customer-data', true],
      ['ScanRole', 's3:GetObject', 'arn:aws:s3:::customer-data/k', true],
      ['ScanRole', 's3:PutObject', 'arn:aws:s3:::customer-data/k', false],
      ['ScanRole', 's3:DeleteObject', 'arn:aws:s3:::customer-data/k', false],
      ['ScanRole', 's3:PutBucketPolicy', 'arn:aws:s3:::customer-data', false],
      ['ScanRole', 'kms:Decrypt', names.ReportKey.arn, true],
      ['ScanRole', 'kms:Decrypt', OTHER_KEY, false],
      ['ScanBucketRole', 's3:GetObject', 'arn:aws:s3:::customer-data/k', true],
      ['ScanBucketRole', 's3:PutObject', `${REPORTS}/index.json`, false],
      [
        'ScanBucketRole',
        's3:PutObject',
        `${REPORTS}/scans/20261101T060000Z-abc/summary.json`,
        false,
      ],
      [
        'ScanBucketRole',
        's3:PutObject',
        `${REPORTS}/scans/20261101T060000Z-abc/work/plan.json`,
        true,
      ],
      ['ScanBucketRole', 's3:PutObject', 'arn:aws:s3:::customer-data/k', false],
      ['ScanBucketRole', 'kms:Decrypt', OTHER_KEY, false],
      ['ScanStateMachineRole', 'states:StartExecution', MACHINE, true],
      [
        'ScanStateMachineRole',
        'states:StartExecution',
        `${MACHINE.replace('s3scan-ci-scan', 'payments')}`,
        false,
      ],
      ['ScanStateMachineRole', 'states:DescribeExecution', CHILD, true],
      [
        'ScanStateMachineRole',
        'states:StopExecution',
        CHILD.replace('s3scan-ci-scan', 'payments'),
        false,
      ],
      ['ScanStateMachineRole', 's3:PutObject', `${REPORTS}/index.json`, false],
      ['DashboardRole', 's3:GetObject', `${REPORTS}/index.json`, true],
      ['DashboardRole', 's3:PutObject', `${REPORTS}/index.json`, false],
      ['EnumerateRole', 'kms:Decrypt', OTHER_KEY, false],
      ['FinalizeRole', 's3:PutObject', 'arn:aws:s3:::customer-data/k', false],
    ] as const)('%s: %s on %s is %s', async (role, action, resource, expected) => {
      expect(await allowed(role, action, resource)).toBe(expected);
    });

    const TOPIC = names.AlertTopic.arn;
    const BUS = 'arn:aws:events:us-east-1:111122223333:event-bus/default';
    const PRODUCT = 'arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default';
    it.each([
      ['ScanRole', 'sns:Publish', TOPIC, true],
      ['FinalizeRole', 'sns:Publish', TOPIC, true],
      ['ScanRole', 'sns:Publish', 'arn:aws:sns:us-east-1:111122223333:payments', false],
      ['EnumerateRole', 'sns:Publish', TOPIC, false],
      ['ScanBucketRole', 'sns:Publish', TOPIC, false],
      ['DashboardRole', 'sns:Publish', TOPIC, false],
      ['ScanRole', 'events:PutEvents', BUS, true],
      ['FinalizeRole', 'events:PutEvents', BUS, true],
      ['ScanRole', 'events:PutEvents', BUS.replace('/default', '/payments'), false],
      ['ScanBucketRole', 'events:PutEvents', BUS, false],
      ['ScanRole', 'securityhub:BatchImportFindings', PRODUCT, true],
      ['FinalizeRole', 'securityhub:BatchImportFindings', PRODUCT, true],
      [
        'ScanRole',
        'securityhub:BatchImportFindings',
        'arn:aws:securityhub:us-east-1:999999999999:product/999999999999/default',
        false,
      ],
      ['DashboardRole', 'securityhub:BatchImportFindings', PRODUCT, false],
      // SNS encrypts with the topic's key on the publisher's behalf.
      ['ScanRole', 'kms:GenerateDataKey', names.ReportKey.arn, true],
      ['FinalizeRole', 'kms:GenerateDataKey', names.ReportKey.arn, true],
      ['ScanRole', 'kms:GenerateDataKey', OTHER_KEY, false],
    ] as const)('alerts: %s: %s on %s is %s', async (role, action, resource, expected) => {
      expect(await allowed(role, action, resource)).toBe(expected);
    });

    it.each([
      ['ScanRole', 'alerts/20261101T060000Z-abc/', true],
      ['ScanRole', 'scans/', false],
      ['FinalizeRole', 'alerts/20261101T060000Z-abc/', true],
      ['DashboardRole', 'alerts/20261101T060000Z-abc/', false],
    ] as const)(
      'objectAccess none: %s may list the alert ledger (prefix "%s"): %s',
      async (role, prefix, expected) => {
        // Act
        const result = await allowed(
          role,
          's3:ListBucket',
          REPORTS,
          { ObjectAccessAll: false, ObjectAccessInventory: false, UseConfigParameter: false },
          { 's3:prefix': prefix },
        );

        // Assess
        expect(result).toBe(expected);
      },
    );

    describe('the remediation role (remediation: enabled), apart from every scanning role', () => {
      const ENABLED = { RemediationEnabled: true };
      const CUSTOMER = 'arn:aws:s3:::customer-data';
      const own = { 's3:ResourceAccount': '111122223333' };

      it('is created only when remediation is enabled, and the default leaves it out', () => {
        expect(template.Resources.RemediationRole?.Condition).toBe('RemediationEnabled');
        expect(template.Conditions?.RemediationEnabled).toEqual({
          'Fn::Equals': ['disabled', 'enabled'],
        });
        expect(
          (template.Outputs?.RemediationRoleArn as { Condition?: string } | undefined)?.Condition,
        ).toBe('RemediationEnabled');
      });

      it.each(FIX_IAM_ACTIONS.writes.map((action) => [action]))(
        'may %s on a bucket or key of its own account',
        async (action) => {
          const target = action.startsWith('kms:') ? OTHER_KEY : CUSTOMER;
          expect(await allowed('RemediationRole', action, target, ENABLED, own)).toBe(true);
        },
      );

      it.each([
        [
          's3:PutBucketPolicy',
          'arn:aws:s3:::customer-data',
          { 's3:ResourceAccount': '999988887777' },
        ],
        ['s3:PutBucketPolicy', names.ReportBucket.arn, own],
        ['s3:PutEncryptionConfiguration', names.PageBucket.arn, own],
        ['s3:DeleteBucketPolicy', names.ReportBucket.arn, own],
        ['kms:DisableKeyRotation', names.ReportKey.arn, {}],
        ['kms:EnableKeyRotation', OTHER_KEY.replace('111122223333', '999988887777'), {}],
        ['s3:DeleteBucket', CUSTOMER, own],
        ['s3:PutObject', `${CUSTOMER}/k`, own],
        ['s3:DeleteObject', `${CUSTOMER}/k`, own],
        ['s3:PutBucketAcl', CUSTOMER, own],
        ['s3:PutBucketPublicAccessBlock', CUSTOMER, own],
        ['kms:PutKeyPolicy', OTHER_KEY, {}],
        ['kms:ScheduleKeyDeletion', OTHER_KEY, {}],
        ['kms:Decrypt', OTHER_KEY, {}],
      ] as const)('may not %s on %s', async (action, resource, context) => {
        expect(await allowed('RemediationRole', action, resource, ENABLED, { ...context })).toBe(
          false,
        );
      });

      it("reads what a fix re-reads, and the scanner's set for the rescan that proves it", async () => {
        for (const action of FIX_IAM_ACTIONS.reads)
          expect(
            await allowed(
              'RemediationRole',
              action,
              action.startsWith('kms:') ? OTHER_KEY : CUSTOMER,
              ENABLED,
            ),
            action,
          ).toBe(true);
        expect(template.Resources.RemediationRole?.Properties.ManagedPolicyArns).toEqual([
          { Ref: 'ScanReadPolicy' },
        ]);
      });

      it("writes the fix's records under fixes/ and stores its rescan, nothing else of the report store", async () => {
        expect(
          await allowed(
            'RemediationRole',
            's3:PutObject',
            `${REPORTS}/fixes/fix-1/plan.json`,
            ENABLED,
          ),
        ).toBe(true);
        expect(
          await allowed(
            'RemediationRole',
            's3:PutObject',
            `${REPORTS}/scans/20261101T060000Z-abc/summary.json`,
            ENABLED,
            { 's3:if-none-match': '*' },
          ),
        ).toBe(true);
        expect(
          await allowed(
            'RemediationRole',
            's3:PutObject',
            `${REPORTS}/config/s3scan.config.yml`,
            ENABLED,
          ),
        ).toBe(false);
        expect(
          await allowed('RemediationRole', 's3:PutObject', `${REPORTS}/index.json`, ENABLED),
        ).toBe(false);
      });

      it('grants exactly the writes the fixes declare on what is not s3scan’s own', () => {
        const role = resolve(template.Resources.RemediationRole?.Properties, names, pseudo, {
          ...DEFAULT_CONDITIONS,
          ...ENABLED,
        }) as { Policies: { PolicyDocument: { Statement: Record<string, Loose>[] } }[] };
        const writes = role.Policies.flatMap((p) => p.PolicyDocument.Statement)
          .filter((st) => st.Effect === 'Allow')
          // What is not s3scan's own: every bucket, every key of the account.
          .filter((st) => /"arn:aws:s3:::\*"|:key\/\*"/.test(JSON.stringify(st.Resource)))
          .flatMap((st) => asList(st.Action));
        expect([...new Set(writes)].sort()).toEqual([...FIX_IAM_ACTIONS.writes]);
      });

      it('is assumable by the account (IAM then decides who), or by the one principal named', () => {
        const trust = (named: boolean) =>
          resolve(
            template.Resources.RemediationRole?.Properties.AssumeRolePolicyDocument,
            names,
            pseudo,
            {
              ...DEFAULT_CONDITIONS,
              ...ENABLED,
              RemediationPrincipalNamed: named,
            },
          ) as { Statement: { Principal: { AWS: string }; Action: string }[] };
        expect(trust(false).Statement).toEqual([
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111122223333:root' },
            Action: 'sts:AssumeRole',
          },
          {
            Effect: 'Allow',
            Principal: { AWS: names.RescanRole.arn },
            Action: 'sts:AssumeRole',
          },
        ]);
        expect(trust(true).Statement[0]?.Principal.AWS).toBe('');
      });

      it('creates object jobs run as the Batch role only, their manifests in the job bucket', async () => {
        const JOBS = names.RemediationJobBucket.arn;
        const pass = { 'iam:PassedToService': 'batchoperations.s3.amazonaws.com' };
        expect(await allowed('RemediationRole', 's3:CreateJob', '*', ENABLED)).toBe(true);
        expect(
          await allowed(
            'RemediationRole',
            's3:DescribeJob',
            'arn:aws:s3:us-east-1:111122223333:job/a1b2c3',
            ENABLED,
          ),
        ).toBe(true);
        expect(
          await allowed(
            'RemediationRole',
            'iam:PassRole',
            names.RemediationBatchRole.arn,
            ENABLED,
            pass,
          ),
        ).toBe(true);
        expect(
          await allowed(
            'RemediationRole',
            'iam:PassRole',
            'arn:aws:iam::111122223333:role/s3scan-ci-scan',
            ENABLED,
            pass,
          ),
        ).toBe(false);
        expect(
          await allowed(
            'RemediationRole',
            's3:PutObject',
            `${JOBS}/s3scan-fixes/f/manifests/m.csv`,
            ENABLED,
          ),
        ).toBe(true);
        const granted = statements(true).flatMap((st) => asList(st.Action));
        for (const action of JOB_IAM_ACTIONS) expect(granted, action).toContain(action);
      });

      it('lets the Batch role update the encryption of the account’s objects in place, and nothing else', async () => {
        const JOBS = names.RemediationJobBucket.arn;
        const own = { 's3:ResourceAccount': '111122223333' };
        const via = { 'kms:ViaService': 's3.us-east-1.amazonaws.com' };
        const cases: [string, string, Record<string, string>, boolean][] = [
          ['s3:UpdateObjectEncryption', `${CUSTOMER}/k`, own, true],
          [
            's3:UpdateObjectEncryption',
            `${CUSTOMER}/k`,
            { 's3:ResourceAccount': '999988887777' },
            false,
          ],
          ['s3:UpdateObjectEncryption', `${REPORTS}/scans/x`, own, false],
          ['s3:PutObject', `${CUSTOMER}/k`, own, false],
          ['s3:GetObject', `${CUSTOMER}/k`, own, false],
          ['s3:DeleteObject', `${CUSTOMER}/k`, own, false],
          ['s3:GetObject', `${JOBS}/s3scan-fixes/f/manifests/m.csv`, {}, true],
          ['s3:PutObject', `${JOBS}/s3scan-fixes/f/reports/job-1/report.json`, {}, true],
          ['s3:PutObject', `${JOBS}/s3scan-fixes/f/manifests/m.csv`, {}, false],
          ['s3:ListBucket', CUSTOMER, own, true],
          ['s3:ListBucket', CUSTOMER, { 's3:ResourceAccount': '999988887777' }, false],
          ['s3:PutObject', `${JOBS}/s3scan-fixes/f/generated/job-1/manifest.json`, {}, true],
          ['kms:ReEncryptFrom', OTHER_KEY, via, true],
          ['kms:Decrypt', OTHER_KEY, {}, false],
        ];
        for (const [action, resource, context, expected] of cases)
          expect(
            await allowed('RemediationBatchRole', action, resource, ENABLED, context),
            `${action} ${resource}`,
          ).toBe(expected);
        const trust = resolve(
          template.Resources.RemediationBatchRole?.Properties.AssumeRolePolicyDocument,
          names,
          pseudo,
        ) as { Statement: unknown[] };
        expect(trust.Statement).toEqual([
          {
            Effect: 'Allow',
            Principal: { Service: 'batchoperations.s3.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
          },
        ]);
      });

      it('is assumed by the rescan function for automatic fixes, and only when enabled', async () => {
        const arn = 'arn:aws:iam::111122223333:role/s3scan-ci-remediation';
        expect(await allowed('RescanRole', 'sts:AssumeRole', arn, ENABLED)).toBe(true);
        expect(await allowed('RescanRole', 'sts:AssumeRole', arn, {})).toBe(false);
        expect(await allowed('ScanRole', 'sts:AssumeRole', arn, ENABLED)).toBe(false);
        const trust = template.Resources.RemediationRole?.Properties.AssumeRolePolicyDocument as {
          Statement: { Principal: unknown }[];
        };
        expect(trust.Statement[1]?.Principal).toEqual({
          AWS: { 'Fn::GetAtt': ['RescanRole', 'Arn'] },
        });
        const env = (name: string) =>
          (
            Object.values(template.Resources).find(
              (r) =>
                r.Type === 'AWS::Lambda::Function' &&
                JSON.stringify(r.Properties.Handler).includes(`functions/${name}/`),
            )?.Properties.Environment as { Variables: Record<string, unknown> } | undefined
          )?.Variables ?? {};
        expect(env('rescan').REMEDIATION_ROLE_NAME).toEqual({
          'Fn::If': ['RemediationEnabled', 's3scan-ci-remediation', { Ref: 'AWS::NoValue' }],
        });
        expect(env('scan')).not.toHaveProperty('REMEDIATION_ROLE_NAME');
      });

      it('leaves every scanning role without a single fix write', async () => {
        const roles = Object.entries(template.Resources)
          .filter(([name, r]) => r.Type === 'AWS::IAM::Role' && name !== 'RemediationRole')
          .map(([name]) => name);
        expect(roles.length).toBeGreaterThan(5);
        for (const role of roles)
          for (const action of FIX_IAM_ACTIONS.writes)
            expect(
              await allowed(
                role,
                action,
                action.startsWith('kms:') ? OTHER_KEY : CUSTOMER,
                {},
                own,
              ),
              `${role} ${action}`,
            ).toBe(false);
      });
    });

    it('tells the scan, rescan and finalize functions the alert topic, and no other function', () => {
      const told = Object.entries(template.Resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .filter(([, r]) => {
          const env = resolve(
            (r.Properties.Environment as { Variables: never }).Variables,
            names,
            pseudo,
            DEFAULT_CONDITIONS,
          ) as Record<string, unknown>;
          return env.ALERT_TOPIC_ARN === TOPIC;
        })
        .map(([name]) => name)
        .sort();
      expect(told).toEqual([
        'FinalizeLambdaFunction',
        'RescanLambdaFunction',
        'ScanLambdaFunction',
      ]);
    });

    it.each([
      ['ScanRole', 'config/s3scan.config.yml', true],
      ['ScanRole', 'scans/', false],
      ['ScanRole', '', false],
      ['DashboardRole', 'config/s3scan.config.yml', false],
      ['ScanBucketRole', 'config/s3scan.config.yml', false],
    ] as const)(
      'objectAccess none: %s may list the report bucket with prefix "%s": %s (only the config key)',
      async (role, prefix, expected) => {
        // Act
        const result = await allowed(
          role,
          's3:ListBucket',
          REPORTS,
          { ObjectAccessAll: false, ObjectAccessInventory: false, UseConfigParameter: false },
          { 's3:prefix': prefix },
        );

        // Assess
        expect(result).toBe(expected);
      },
    );

    it('without configParameter, no role may read any SSM parameter and no function is told one', async () => {
      // Act
      const reads = await Promise.all(
        ['ScanRole', 'EnumerateRole', 'FinalizeRole'].map((role) =>
          allowed(
            role,
            'ssm:GetParameter',
            'arn:aws:ssm:us-east-1:111122223333:parameter/s3scan/config',
          ),
        ),
      );

      // Assess
      expect(reads).toEqual([false, false, false]);
      const env = template.Resources.ScanLambdaFunction?.Properties.Environment as {
        Variables: Record<string, unknown>;
      };
      expect(resolve(env.Variables, names, pseudo, DEFAULT_CONDITIONS)).not.toHaveProperty(
        'CONFIG_PARAMETER',
      );
    });

    it.each([
      ['all', { ObjectAccessAll: true, ObjectAccessInventory: false }, true, true],
      ['inventory', { ObjectAccessAll: false, ObjectAccessInventory: true }, false, true],
      ['none', { ObjectAccessAll: false, ObjectAccessInventory: false }, false, false],
    ] as const)(
      'objectAccess %s: object reads on scanned buckets %s, on inventory destinations %s',
      async (_access, conditions, scanned, inventory) => {
        // Act
        const onData = await allowed(
          'ScanRole',
          's3:GetObject',
          'arn:aws:s3:::customer-data/k',
          conditions,
        );
        const onInventory = await allowed(
          'ScanBucketRole',
          's3:GetObject',
          'arn:aws:s3:::acme-inventory/customer-data/daily/manifest.json',
          conditions,
        );

        // Assess
        expect([onData, onInventory]).toEqual([scanned, inventory]);
      },
    );

    it('defaults scheduled scans to the object mode the granted access allows', () => {
      const enumerate = template.Resources.EnumerateLambdaFunction!.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(enumerate.Environment.Variables.DEFAULT_OBJECT_MODE).toBe('auto');
      expect(enumerate.Environment.Variables.OBJECT_ACCESS).toBe('all');
    });

    const ROLES = [
      'ScanRole',
      'RescanRole',
      'EnumerateRole',
      'ScanBucketRole',
      'FinalizeRole',
      'DashboardRole',
    ] as const;
    const WRITERS = new Set(['ScanRole', 'RescanRole', 'FinalizeRole']);

    /** The request context S3 gives a PutObject (s3:ObjectCreationOperation is true for it). */
    const PUT = { 's3:ObjectCreationOperation': 'true' };
    const CREATE = { ...PUT, 's3:if-none-match': '*' };
    const SWAP = { ...PUT, 's3:if-match': '"5d41402abc4b2a76b9719d911017c592"' };
    /** UploadPart and CreateMultipartUpload: authorised as PutObject, no condition header. */
    const PART = { 's3:ObjectCreationOperation': 'false' };
    const SCAN = `${REPORTS}/scans/20261101T060000Z-abc`;
    const put = (role: string, key: string, context: Record<string, string>) =>
      allowed(role, 's3:PutObject', key, DEFAULT_CONDITIONS, context);

    it.each(ROLES)(
      '%s may not write the config, nor any key outside scans/, alerts/ and index.json, however it asks',
      async (role) => {
        // Act
        const refused = await Promise.all(
          [`${REPORTS}/config/s3scan.config.yml`, `${REPORTS}/dashboard/index.html`].flatMap(
            (key) => [PUT, CREATE, SWAP, PART].map((context) => put(role, key, context)),
          ),
        );
        const report = await put(role, `${SCAN}/summary.json`, CREATE);
        const index = await put(role, `${REPORTS}/index.json`, SWAP);
        const work = await put(role, `${SCAN}/work/plan.json`, PUT);

        // Assess
        expect(refused.every((allowedHere) => !allowedHere)).toBe(true);
        expect([report, index]).toEqual([WRITERS.has(role), WRITERS.has(role)]);
        expect(work).toBe(role !== 'DashboardRole');
      },
    );

    it.each([...WRITERS])(
      "%s creates a stored scan's files but can never replace one, its own scan's or another's",
      async (role) => {
        // Act
        const create = await put(role, `${SCAN}/findings.ndjson.gz`, CREATE);
        const replace = await put(role, `${SCAN}/findings.ndjson.gz`, PUT);
        const replaceIfUnchanged = await put(role, `${SCAN}/manifest.json`, SWAP);
        const part = await put(role, `${SCAN}/objects/111122223333/b.csv.gz`, PART);
        const completeUnconditional = await put(role, `${SCAN}/objects/111122223333/b.csv.gz`, PUT);
        const abort = await allowed(
          role,
          's3:AbortMultipartUpload',
          `${SCAN}/objects/111122223333/b.csv.gz`,
        );

        // Assess
        expect({ create, part, abort }).toEqual({ create: true, part: true, abort: true });
        expect({ replace, replaceIfUnchanged, completeUnconditional }).toEqual({
          replace: false,
          replaceIfUnchanged: false,
          completeUnconditional: false,
        });
      },
    );

    it.each([...WRITERS])(
      '%s writes index.json only as a compare-and-swap, and the work area and alert ledger in place',
      async (role) => {
        // Act
        const swap = await put(role, `${REPORTS}/index.json`, SWAP);
        const first = await put(role, `${REPORTS}/index.json`, CREATE);
        const blind = await put(role, `${REPORTS}/index.json`, PUT);
        const checkpoint = await put(role, `${SCAN}/work/checkpoint.json`, PUT);
        const ledger = await put(role, `${REPORTS}/alerts/20261101T060000Z-abc/slack-0.json`, PUT);

        // Assess
        expect({ swap, first, blind }).toEqual({ swap: true, first: true, blind: false });
        expect({ checkpoint, ledger }).toEqual({ checkpoint: true, ledger: true });
      },
    );

    it.each(['EnumerateRole', 'ScanBucketRole', 'FinalizeRole', 'RescanRole'] as const)(
      '%s assumes member roles in its own organisation only',
      async (role) => {
        // Prepare
        const member = 'arn:aws:iam::444455556666:role/s3scan-read';
        const org = { 'aws:PrincipalOrgID': 'o-aaaa1111bb' };

        // Act
        const inOrg = await allowed(role, 'sts:AssumeRole', member, DEFAULT_CONDITIONS, {
          ...org,
          'aws:ResourceOrgID': 'o-aaaa1111bb',
        });
        const otherOrg = await allowed(role, 'sts:AssumeRole', member, DEFAULT_CONDITIONS, {
          ...org,
          'aws:ResourceOrgID': 'o-zzzz9999yy',
        });
        const noOrg = await allowed(role, 'sts:AssumeRole', member, DEFAULT_CONDITIONS, org);
        const otherName = await allowed(
          role,
          'sts:AssumeRole',
          'arn:aws:iam::444455556666:role/admin',
          DEFAULT_CONDITIONS,
          { ...org, 'aws:ResourceOrgID': 'o-aaaa1111bb' },
        );

        // Assess
        expect([inOrg, otherOrg, noOrg, otherName]).toEqual([true, false, false, false]);
      },
    );
  });

  describe('the scheduled scan state machine', () => {
    const machine = () =>
      template.Resources.ScanStateMachine?.Properties as {
        DefinitionString: string;
        DefinitionSubstitutions: Record<string, unknown>;
      };
    const definition = () =>
      JSON.parse(machine().DefinitionString) as {
        StartAt: string;
        States: Record<string, Record<string, unknown>>;
      };

    it('is valid JSON whose every placeholder has a substitution naming a resource of the stack', () => {
      const placeholders = [...machine().DefinitionString.matchAll(/\$\{([^}]+)\}/g)].map(
        (m) => m[1],
      );
      expect(new Set(placeholders)).toEqual(
        new Set(Object.keys(machine().DefinitionSubstitutions)),
      );
      for (const value of Object.values(machine().DefinitionSubstitutions)) {
        const target =
          (value as { Ref?: string; 'Fn::GetAtt'?: string[] }).Ref ??
          (value as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
        expect(Object.keys(template.Resources)).toContain(target);
      }
      expect(definition().StartAt).toBe('Enumerate');
    });

    it('enumerates, fans out in a Distributed Map reading items from S3, loops a bucket until done, then finalizes', () => {
      const { States } = definition();
      const map = States.ScanBuckets as Record<string, Loose>;
      expect(States.Enumerate).toMatchObject({ Next: 'ScanBuckets' });
      expect(map).toMatchObject({
        Type: 'Map',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
        },
        MaxConcurrency: 40,
        ToleratedFailurePercentage: 10,
        ResultPath: null,
        Next: 'PlanObjectParts',
        Catch: [
          { ErrorEquals: ['States.ExceedToleratedFailureThreshold'], Next: 'PlanObjectParts' },
        ],
      });
      const inner = map.ItemProcessor.States;
      expect(inner.MoreToScan.Choices).toEqual([
        { Variable: '$.done', BooleanEquals: false, Next: 'Continue' },
      ]);
      expect(inner.Continue).toMatchObject({
        Type: 'Pass',
        OutputPath: '$.item',
        Next: 'ScanBucket',
      });
      expect(States.Finalize).toMatchObject({
        End: true,
        Parameters: { Payload: { 'scanId.$': '$.scanId' } },
      });
    });

    it('fans large buckets out a second level: object parts in a Distributed Map of their own, then finalize', () => {
      const { States } = definition();
      const parts = States.ScanObjectParts as Record<string, Loose>;
      expect(States.PlanObjectParts).toMatchObject({ Next: 'AnyObjectParts' });
      expect(States.AnyObjectParts).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.parts', NumericGreaterThan: 0, Next: 'ScanObjectParts' }],
        Default: 'Finalize',
      });
      expect(parts).toMatchObject({
        Type: 'Map',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject' },
        MaxConcurrency: 40,
        // A failed part makes its bucket's object evidence incomplete (ERROR), not the scan.
        ToleratedFailurePercentage: 100,
        ResultPath: null,
        Next: 'Finalize',
      });
      const inner = parts.ItemProcessor.States;
      expect(inner.MorePart.Choices).toEqual([
        { Variable: '$.done', BooleanEquals: false, Next: 'ContinuePart' },
      ]);
      expect(inner.ContinuePart).toMatchObject({ OutputPath: '$.item', Next: 'ScanObjectPart' });
      const enumerate = template.Resources.EnumerateLambdaFunction?.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(enumerate.Environment.Variables.OBJECT_FAN_OUT).toBe('true');
    });

    it('may invoke exactly the five step functions, and the schedule may only start it', () => {
      const role = template.Resources.ScanStateMachineRole?.Properties as {
        Policies: {
          PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
        }[];
      };
      const invoke = role.Policies.flatMap((p) => p.PolicyDocument.Statement).find((st) =>
        asList(st.Action).includes('lambda:InvokeFunction'),
      );
      expect(JSON.stringify(invoke?.Resource)).toMatch(
        /EnumerateLambdaFunction.*ScanBucketLambdaFunction.*PlanObjectPartsLambdaFunction.*ScanObjectPartLambdaFunction.*FinalizeLambdaFunction/,
      );
      const schedule = template.Resources.ScanSchedule?.Properties as {
        Target: { Arn: unknown; Input: string };
      };
      expect(schedule.Target.Arn).toEqual({ Ref: 'ScanStateMachine' });
      expect(JSON.parse(schedule.Target.Input)).toEqual({});
      const scheduler = template.Resources.SchedulerRole?.Properties as {
        Policies: { PolicyDocument: { Statement: { Action: string }[] } }[];
      };
      expect(
        scheduler.Policies.flatMap((p) => p.PolicyDocument.Statement).map((st) => st.Action),
      ).toEqual(['states:StartExecution']);
    });
  });

  it('grants no write and no decrypt on scanned resources', () => {
    const risky =
      /^(s3:(Put|Delete|Create|Replicate|Restore|Abort|Bypass|Update)|kms:(Decrypt|Encrypt|ReEncrypt|GenerateDataKey|Create|Delete|Disable|Schedule|Put)|\*$|s3:\*|kms:\*)/;
    for (const statement of statements().filter((s) => s.Effect === 'Allow')) {
      // s3scan's own stores (the report store, the page bucket) and keys are written to;
      // nothing else is.
      if (/ReportBucket|ReportKey|PageBucket|PageKey/.test(JSON.stringify(statement.Resource)))
        continue;
      const actions = asList(statement.Action).filter((a) => typeof a === 'string');
      expect({ actions: actions.filter((a) => risky.test(a)) }).toEqual({ actions: [] });
    }
  });

  it('uses only resource types and property names CloudFormation knows', () => {
    expect(validateTemplate(template as never)).toEqual([]);
  }, 30_000);

  it('grants kms:Decrypt and object writes on s3scan’s own stores only', () => {
    for (const statement of statements().filter((s) => s.Effect === 'Allow')) {
      const actions = asList(statement.Action);
      if (
        actions.some(
          (a) => a === 'kms:Decrypt' || a === 'kms:GenerateDataKey' || a === 's3:PutObject',
        )
      ) {
        expect(JSON.stringify(statement.Resource)).toMatch(
          /ReportKey|ReportBucket|PageBucket|PageKey/,
        );
      }
    }
  });

  describe('the report bucket passes our own rules', () => {
    it('its bucket policy is judged TLS-enforced, SSE-C blocked and key-pinned by the analyzer', () => {
      // Prepare
      const policy = resolve(
        template.Resources.ReportBucketPolicy?.Properties.PolicyDocument,
        names,
        pseudo,
      );

      // Act
      const analysis = analyzePolicy(policy, {
        bucket: names.ReportBucket.ref,
        accountId: '111122223333',
      });

      // Assess
      expect(analysis).toMatchObject({
        tlsEnforced: true,
        sseCBlocked: true,
        kmsKeyEnforced: true,
        pinnedKmsKeyArns: [names.ReportKey.arn],
      });
    });

    it.each([
      ['ReportBucket', 'ReportBucketPolicy', 'ReportKey'],
      ['PageBucket', 'PageBucketPolicy', 'PageKey'],
    ] as const)(
      'every bucket rule passes on the evidence the template describes: %s',
      (bucketId, policyId, keyId) => {
        // Prepare: evidence as the collectors would record the deployed bucket.
        const props = resolve(template.Resources[bucketId]?.Properties, names, pseudo) as {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: {
              ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID: string };
              BucketKeyEnabled: boolean;
              BlockedEncryptionTypes: { EncryptionType: string[] };
            }[];
          };
          VersioningConfiguration?: { Status: string };
        };
        const rule = props.BucketEncryption.ServerSideEncryptionConfiguration[0]!;
        const bucket: BucketEvidence = {
          name: names[bucketId].ref,
          arn: names[bucketId].arn,
          region: 'us-east-1',
          accountId: '111122223333',
          partition: 'aws',
          encryption: {
            ok: {
              Rules: [
                {
                  ApplyServerSideEncryptionByDefault: rule.ServerSideEncryptionByDefault,
                  BucketKeyEnabled: rule.BucketKeyEnabled,
                  BlockedEncryptionTypes: rule.BlockedEncryptionTypes,
                },
              ],
            },
          },
          policy: {
            ok: JSON.stringify(
              resolve(template.Resources[policyId]?.Properties.PolicyDocument, names, pseudo),
            ),
          },
          policyStatus: { ok: { IsPublic: false } },
          versioning: {
            ok: props.VersioningConfiguration
              ? { Status: props.VersioningConfiguration.Status }
              : {},
          },
          inventoryConfigurations: { ok: [] },
          defaultKmsKeyRef: names[keyId].arn,
        };
        const keyProps = template.Resources[keyId]?.Properties as {
          EnableKeyRotation: boolean;
          KeyPolicy: unknown;
        };
        const evidence: ScanEvidence = {
          schemaVersion: '1.0',
          tool: { name: 's3scan', version: 'contract' },
          scanId: 'contract',
          scanTime: '2026-11-01T00:00:00.000Z',
          accountId: '111122223333',
          partition: 'aws',
          buckets: [bucket],
          kmsKeys: {
            [names[keyId].arn]: {
              ref: names[keyId].arn,
              region: 'us-east-1',
              describe: {
                ok: {
                  KeyId: names[keyId].arn.split('/').at(-1) as string,
                  Arn: names[keyId].arn,
                  AWSAccountId: '111122223333',
                  KeyManager: 'CUSTOMER',
                  KeyState: 'Enabled',
                  KeySpec: 'SYMMETRIC_DEFAULT',
                  KeyUsage: 'ENCRYPT_DECRYPT',
                },
              },
              rotation: { ok: { KeyRotationEnabled: keyProps.EnableKeyRotation } },
              // The key policy the template deploys, as GetKeyPolicy would return it.
              keyPolicy: { ok: JSON.stringify(resolve(keyProps.KeyPolicy, names, pseudo)) },
            },
          },
        };

        // Act
        const { findings } = evaluateScan(evidence);

        // Assess: every bucket rule passes but one, by choice. The key pin rejects header-less
        // uploads (bucket policies are evaluated before default encryption); s3scan's only
        // writers (the report store, the page publisher) always send SSE-KMS headers with the
        // pinned key, which is also the default key, so the conflict rule fails at its low
        // severity and says so.
        const notPassing = findings
          .filter((f) => f.ruleId.startsWith('s3-bucket-') && f.status !== 'PASS')
          .map((f) => f.ruleId);
        expect(notPassing).toEqual(['s3-bucket-policy-allows-default-encryption']);
        const conflict = findings.find(
          (f) => f.ruleId === 's3-bucket-policy-allows-default-encryption',
        );
        expect(conflict).toMatchObject({ status: 'FAIL', severity: 'low' });
        expect(conflict?.message).toMatch(/is the default key, so writers only need to name it/);
      },
    );

    it('writes reports under the key the report bucket pins', () => {
      const scan = template.Resources.ScanLambdaFunction?.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(resolve(scan.Environment.Variables.REPORT_KMS_KEY_ARN, names, pseudo)).toBe(
        names.ReportKey.arn,
      );
    });
  });

  it('has no dependency cycle (CloudFormation would refuse it only at deploy time)', () => {
    expect(dependencyCycles(template)).toEqual([]);
  });

  describe('the dashboard page, deployed', () => {
    const props = (id: string) =>
      resolve(template.Resources[id]?.Properties, names, pseudo, DEFAULT_CONDITIONS) as never;

    it('serves the page from a private bucket through CloudFront with origin access control', () => {
      // Prepare
      const config = (
        props('PageDistribution') as {
          DistributionConfig: {
            Origins: {
              Id: string;
              DomainName: string;
              OriginAccessControlId?: string;
              S3OriginConfig?: { OriginAccessIdentity: string };
              CustomOriginConfig?: { OriginProtocolPolicy: string };
            }[];
            DefaultCacheBehavior: Record<string, unknown>;
            CacheBehaviors: Record<string, unknown>[];
          };
        }
      ).DistributionConfig;
      const page = config.Origins.find((o) => o.Id === 'page');
      const api = config.Origins.find((o) => o.Id === 'api');
      const oac = props('PageOriginAccessControl') as {
        OriginAccessControlConfig: Record<string, string>;
      };
      const bucket = props('PageBucket') as {
        PublicAccessBlockConfiguration: Record<string, boolean>;
      };
      const read = (
        props('PageBucketPolicy') as {
          PolicyDocument: { Statement: { Sid: string; Principal: unknown; Condition: unknown }[] };
        }
      ).PolicyDocument.Statement.find((st) => st.Sid === 'CloudFrontReadsThePage');

      // Assess
      expect(page?.OriginAccessControlId).toBeTruthy();
      expect(page?.S3OriginConfig?.OriginAccessIdentity).toBe('');
      expect(oac.OriginAccessControlConfig).toMatchObject({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      });
      expect(Object.values(bucket.PublicAccessBlockConfiguration)).toEqual([
        true,
        true,
        true,
        true,
      ]);
      expect(read).toMatchObject({
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': names.PageDistribution.arn } },
      });
      expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
      expect(api).toMatchObject({
        DomainName: 'abc123api.execute-api.us-east-1.amazonaws.com',
        CustomOriginConfig: { OriginProtocolPolicy: 'https-only' },
      });
      const apiBehavior = config.CacheBehaviors.find((b) => b.PathPattern === 'api/*');
      expect(apiBehavior).toMatchObject({
        TargetOriginId: 'api',
        ViewerProtocolPolicy: 'https-only',
        // Managed-CachingDisabled and Managed-AllViewerExceptHostHeader (Authorization passes).
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
        OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
      });
    });

    it('sends the security headers: a CSP without unsafe-inline, no frames, HSTS', () => {
      // Act
      const headers = (
        props('PageHeaders') as {
          ResponseHeadersPolicyConfig: {
            SecurityHeadersConfig: {
              ContentSecurityPolicy: { ContentSecurityPolicy: string };
              StrictTransportSecurity: { AccessControlMaxAgeSec: number };
              FrameOptions: { FrameOption: string };
            };
          };
        }
      ).ResponseHeadersPolicyConfig.SecurityHeadersConfig;
      const csp = headers.ContentSecurityPolicy.ContentSecurityPolicy;

      // Assess
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      // The page may call its own origin and the login's token endpoint, nothing else.
      expect(csp).toContain(
        "connect-src 'self' https://s3scan-ci-111122223333.auth.us-east-1.amazoncognito.com/oauth2/token;",
      );
      expect(headers.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(
        31_536_000,
      );
      expect(headers.FrameOptions.FrameOption).toBe('DENY');
      const distribution = JSON.stringify(template.Resources.PageDistribution);
      expect(distribution.match(/"ResponseHeadersPolicyId"/g)).toHaveLength(2);
    });

    it('rewrites /api/… to the HTTP API’s own paths with its CloudFront function', () => {
      // Prepare: the function's code, run as CloudFront runs it.
      const code = (props('PageApiRewrite') as { FunctionCode: string }).FunctionCode;
      const handler = new Function(`${code}; return handler;`)() as (event: {
        request: { uri: string };
      }) => { uri: string };

      // Act + Assess
      expect(handler({ request: { uri: '/api/scans/latest/findings' } }).uri).toBe(
        '/scans/latest/findings',
      );
      expect(handler({ request: { uri: '/api/scans' } }).uri).toBe('/scans');
      expect(handler({ request: { uri: '/apix/scans' } }).uri).toBe('/apix/scans');
    });

    it('logs in through the stack’s user pool: a public client, code flow, the page as callback', () => {
      // Act
      const client = props('DashboardUserPoolClient') as Record<string, unknown>;
      const pool = props('DashboardUserPool') as { AdminCreateUserConfig: Record<string, boolean> };
      const authorizer = Object.values(template.Resources).find(
        (r) => r.Type === 'AWS::ApiGatewayV2::Authorizer',
      );
      const jwt = resolve(authorizer?.Properties, names, pseudo, DEFAULT_CONDITIONS) as {
        JwtConfiguration: { Issuer: string; Audience: string[] };
      };
      const page = props('DashboardPage') as {
        Config: { auth: Record<string, unknown> };
        Bucket: string;
        ServiceToken: string;
      };

      // Assess
      expect(client).toMatchObject({
        GenerateSecret: false,
        AllowedOAuthFlows: ['code'],
        AllowedOAuthFlowsUserPoolClient: true,
        CallbackURLs: ['https://d111111abcdef8.cloudfront.net/'],
      });
      expect(pool.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
      expect(jwt.JwtConfiguration).toEqual({
        Issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE',
        Audience: ['1example23456789clientid'],
      });
      expect(page.Config.auth).toEqual({
        authorizeUrl:
          'https://s3scan-ci-111122223333.auth.us-east-1.amazoncognito.com/oauth2/authorize',
        tokenUrl: 'https://s3scan-ci-111122223333.auth.us-east-1.amazoncognito.com/oauth2/token',
        clientId: '1example23456789clientid',
        redirectUri: 'https://d111111abcdef8.cloudfront.net/',
        scopes: ['openid', 'email'],
      });
      expect(page.Bucket).toBe(names.PageBucket.ref);
      expect(existsSync(join(root, 'dist/functions/publish-page/web/index.html'))).toBe(true);
    });

    it('lets the page publisher write the page under its key, and nothing else', () => {
      // Act
      const role = props('PublishPageRole') as {
        Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: string }[] } }[];
      };
      const statements = role.Policies.flatMap((p) => p.PolicyDocument.Statement);

      // Assess
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: [...PAGE_PUBLISH_IAM_ACTIONS],
          Resource: `${names.PageBucket.arn}/*`,
        },
        { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: names.PageKey.arn },
      ]);
    });
  });

  it.each([
    ['scan', { buckets: 'b1' }, /buckets: must be array/],
    ['enumerate', { objects: 'all' }, /objects: must be one of/],
    ['scan-bucket', { scanId: 's' }, /bucket: is required/],
    ['finalize', {}, /scanId: is required/],
  ])(
    'ships a %s bundle under 1.5 MB that loads and rejects a bad payload by field name',
    async (name, payload, message) => {
      // Prepare
      const bundle = join(root, `dist/functions/${name}/index.js`);
      process.env.REPORT_BUCKET = 'contract-test-bucket';
      const { handler } = (await import(pathToFileURL(bundle).href)) as {
        handler: (event: unknown, context: unknown) => Promise<unknown>;
      };

      // Act & Assess: what a cold start loads (index.js and the chunks it imports statically;
      // chunks behind import(), such as the alert sinks, load only when used).
      const loaded = [...staticGraph(bundle)];
      expect(loaded.reduce((n, file) => n + readFileSync(file).length, 0)).toBeLessThan(
        1.5 * 1024 * 1024,
      );
      await expect(
        handler(payload, {
          getRemainingTimeInMillis: () => 120_000,
          functionName: name,
          awsRequestId: 'r1',
        }),
      ).rejects.toThrow(message);
    },
  );

  describe('with another identity provider (packaged again with jwtIssuer and its endpoints)', () => {
    let withIssuer: Template;
    const ISSUER = 'https://example.okta.com/oauth2/default';

    beforeAll(() => {
      const out = mkdtempSync(join(tmpdir(), 's3scan-package-'));
      packageStack([
        '--package',
        out,
        '--param',
        `jwtIssuer=${ISSUER}`,
        '--param',
        'jwtAudience=0oa1example',
        '--param',
        `oidcAuthorizeUrl=${ISSUER}/v1/authorize`,
        '--param',
        `oidcTokenUrl=${ISSUER}/v1/token`,
      ]);
      withIssuer = JSON.parse(
        readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
      );
    }, 180_000);

    it('keeps the JWT authorizer on that issuer, the page logging in there, and no user pool', () => {
      // Prepare: the condition as CloudFormation evaluates it with these parameters.
      const condition = withIssuer.Conditions?.UseStackUserPool as { 'Fn::Equals': string[] };
      const conditions = {
        ...DEFAULT_CONDITIONS,
        UseStackUserPool: condition['Fn::Equals'][0] === condition['Fn::Equals'][1],
      };
      const authorizer = Object.values(withIssuer.Resources).find(
        (r) => r.Type === 'AWS::ApiGatewayV2::Authorizer',
      );

      // Act
      const jwt = resolve(authorizer?.Properties, names, pseudo, conditions) as {
        JwtConfiguration: unknown;
      };
      const page = resolve(
        withIssuer.Resources.DashboardPage?.Properties,
        names,
        pseudo,
        conditions,
      ) as {
        Config: { auth: Record<string, unknown> };
      };
      const csp = resolve(withIssuer.Resources.PageHeaders?.Properties, names, pseudo, conditions);

      // Assess
      expect(conditions.UseStackUserPool).toBe(false);
      for (const id of ['DashboardUserPool', 'DashboardUserPoolClient', 'DashboardUserPoolDomain'])
        expect(withIssuer.Resources[id]?.Condition).toBe('UseStackUserPool');
      expect(jwt.JwtConfiguration).toEqual({ Issuer: ISSUER, Audience: ['0oa1example'] });
      expect(page.Config.auth).toMatchObject({
        authorizeUrl: `${ISSUER}/v1/authorize`,
        tokenUrl: `${ISSUER}/v1/token`,
        clientId: '0oa1example',
      });
      expect(JSON.stringify(csp)).toContain(`connect-src 'self' ${ISSUER}/v1/token;`);
    });
  });

  describe.each([
    ['none', 'none'],
    ['inventory', 'inventory'],
  ] as const)('with objectAccess %s (packaged again with --param)', (access, mode) => {
    let packaged: Template;

    beforeAll(() => {
      const out = mkdtempSync(join(tmpdir(), 's3scan-package-'));
      packageStack(['--package', out, '--param', `objectAccess=${access}`]);
      packaged = JSON.parse(
        readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
      );
    }, 180_000);

    it(`the schedule names no mode, and enumerate defaults to ${mode} and refuses what ${access} does not grant`, () => {
      // Act
      const target = (packaged.Resources.ScanSchedule!.Properties as { Target: { Input: string } })
        .Target;
      const variables = (name: string) =>
        (
          packaged.Resources[name]!.Properties as {
            Environment: { Variables: Record<string, unknown> };
          }
        ).Environment.Variables;

      // Assess
      expect(JSON.parse(target.Input)).toEqual({});
      expect(variables('EnumerateLambdaFunction')).toMatchObject({
        DEFAULT_OBJECT_MODE: mode,
        OBJECT_ACCESS: access,
      });
      expect(variables('ScanLambdaFunction')).toMatchObject({ OBJECT_ACCESS: access });
    });
  });

  describe('with configParameter set (packaged again with --param)', () => {
    let withParameter: Template;
    const PARAMETER = 'arn:aws:ssm:us-east-1:111122223333:parameter/s3scan/config';

    beforeAll(() => {
      const out = mkdtempSync(join(tmpdir(), 's3scan-package-'));
      packageStack(['--package', out, '--param', 'configParameter=/s3scan/config']);
      withParameter = JSON.parse(
        readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
      );
    }, 180_000);

    async function mayRead(roleName: string, resource: string): Promise<boolean> {
      const { runSimulation } = await import('@cloud-copilot/iam-simulate');
      const role = withParameter.Resources[roleName]?.Properties as {
        Policies?: { PolicyName: string; PolicyDocument: unknown }[];
      };
      const conditions = { ...DEFAULT_CONDITIONS, UseConfigParameter: true };
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:iam::111122223333:role/${roleName}`,
            action: 'ssm:GetParameter',
            resource: { resource, accountId: '111122223333' },
            contextVariables: {},
          },
          identityPolicies: (role.Policies ?? []).map((p) => ({
            name: p.PolicyName,
            policy: resolve(p.PolicyDocument as never, names, pseudo, conditions),
          })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
      return result.overallResult === 'Allowed';
    }

    it.each([
      ['ScanRole', PARAMETER, true],
      ['EnumerateRole', PARAMETER, true],
      ['ScanRole', `${PARAMETER}-other`, false],
      ['ScanRole', 'arn:aws:ssm:us-east-1:111122223333:parameter/s3scan/secrets', false],
      ['FinalizeRole', PARAMETER, false],
      ['ScanBucketRole', PARAMETER, false],
      ['DashboardRole', PARAMETER, false],
    ] as const)('%s: ssm:GetParameter on %s is %s', async (role, resource, expected) => {
      expect(await mayRead(role, resource)).toBe(expected);
    });

    it('tells the scan, rescan and enumerate functions the parameter name, and no other function', () => {
      const conditions = { ...DEFAULT_CONDITIONS, UseConfigParameter: true };
      const told = Object.entries(withParameter.Resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .filter(([, r]) => {
          const env = resolve(
            (r.Properties.Environment as { Variables: never }).Variables,
            names,
            pseudo,
            conditions,
          ) as Record<string, unknown>;
          return env.CONFIG_PARAMETER === '/s3scan/config';
        })
        .map(([name]) => name)
        .sort();
      expect(told).toEqual([
        'EnumerateLambdaFunction',
        'RescanLambdaFunction',
        'ScanLambdaFunction',
      ]);
    });
  });
});
