import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListParentsCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  OrganizationsClient,
  type PolicySummary,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { collectPolicyLayers } from '../../../lib/collect/policy-layers.js';
import { organizationsError } from '../../helpers/aws-errors.js';
import {
  MANAGEMENT_ACCOUNT,
  ORG_ID,
  RCP_FULL_ACCESS,
  RCP_HTTPS_ONLY,
  ROOT_ID,
  SCP_HTTPS_ONLY,
} from '../../helpers/policy-layers.js';

const orgMock = mockClient(OrganizationsClient);
const client = new OrganizationsClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});

const OU_PROD = 'ou-ab12-prod0001';
const OU_WEB = 'ou-ab12-web00001';
const OU_DEV = 'ou-ab12-dev00001';
const WEB_A = '111111111111';
const WEB_B = '222222222222';
const DEV = '333333333333';

/** A PolicySummary as ListPoliciesForTarget answers it. */
const summary = (
  id: string,
  name: string,
  type = 'RESOURCE_CONTROL_POLICY',
  awsManaged = false,
): PolicySummary => ({
  Id: id,
  Arn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT}:policy/${ORG_ID}/${type.toLowerCase()}/${id}`,
  Name: name,
  Description: '',
  Type: type as PolicySummary['Type'],
  AwsManaged: awsManaged,
});

/** DescribeOrganization as the management account's caller sees it (all features). */
function organization(featureSet = 'ALL') {
  orgMock.on(DescribeOrganizationCommand).resolves({
    Organization: {
      Id: ORG_ID,
      Arn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT}:organization/${ORG_ID}`,
      FeatureSet: featureSet as 'ALL',
      MasterAccountId: MANAGEMENT_ACCOUNT,
      MasterAccountArn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT}:account/${ORG_ID}/${MANAGEMENT_ACCOUNT}`,
      MasterAccountEmail: 'root@example.com',
    },
  });
}

/** root → prod → web (A, B); root → dev (DEV); the management account under the root. */
function tree(types = ['RESOURCE_CONTROL_POLICY', 'SERVICE_CONTROL_POLICY']) {
  organization();
  orgMock.on(ListRootsCommand).resolves({
    Roots: [
      {
        Id: ROOT_ID,
        Arn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT}:root/${ORG_ID}/${ROOT_ID}`,
        Name: 'Root',
        PolicyTypes: types.map((Type) => ({
          Type: Type as 'RESOURCE_CONTROL_POLICY',
          Status: 'ENABLED',
        })),
      },
    ],
  });
  const parent = (child: string, Id: string, Type: 'ROOT' | 'ORGANIZATIONAL_UNIT') =>
    orgMock.on(ListParentsCommand, { ChildId: child }).resolves({ Parents: [{ Id, Type }] });
  parent(WEB_A, OU_WEB, 'ORGANIZATIONAL_UNIT');
  parent(WEB_B, OU_WEB, 'ORGANIZATIONAL_UNIT');
  parent(OU_WEB, OU_PROD, 'ORGANIZATIONAL_UNIT');
  parent(OU_PROD, ROOT_ID, 'ROOT');
  parent(DEV, OU_DEV, 'ORGANIZATIONAL_UNIT');
  parent(OU_DEV, ROOT_ID, 'ROOT');
  orgMock.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
  orgMock
    .on(ListPoliciesForTargetCommand, { TargetId: ROOT_ID, Filter: 'RESOURCE_CONTROL_POLICY' })
    .resolves({
      Policies: [
        summary('p-RCPFullAWSAccess', 'RCPFullAWSAccess', 'RESOURCE_CONTROL_POLICY', true),
      ],
    })
    .on(ListPoliciesForTargetCommand, {
      TargetId: OU_PROD,
      Filter: 'RESOURCE_CONTROL_POLICY',
      NextToken: undefined,
    })
    // An empty first page with a token, as Organizations may answer.
    .resolves({ Policies: [], NextToken: 'page-2' })
    .on(ListPoliciesForTargetCommand, {
      TargetId: OU_PROD,
      Filter: 'RESOURCE_CONTROL_POLICY',
      NextToken: 'page-2',
    })
    .resolves({ Policies: [summary('p-enforcetls1', 'EnforceTLS')] })
    .on(ListPoliciesForTargetCommand, { TargetId: ROOT_ID, Filter: 'SERVICE_CONTROL_POLICY' })
    .resolves({ Policies: [summary('p-scphttps01', 'DenyInsecureS3', 'SERVICE_CONTROL_POLICY')] });
  orgMock
    .on(DescribePolicyCommand, { PolicyId: 'p-RCPFullAWSAccess' })
    .resolves({
      Policy: {
        PolicySummary: summary('p-RCPFullAWSAccess', 'RCPFullAWSAccess'),
        Content: RCP_FULL_ACCESS,
      },
    })
    .on(DescribePolicyCommand, { PolicyId: 'p-enforcetls1' })
    .resolves({
      Policy: { PolicySummary: summary('p-enforcetls1', 'EnforceTLS'), Content: RCP_HTTPS_ONLY },
    })
    .on(DescribePolicyCommand, { PolicyId: 'p-scphttps01' })
    .resolves({
      Policy: { PolicySummary: summary('p-scphttps01', 'DenyInsecureS3'), Content: SCP_HTTPS_ONLY },
    });
}

afterEach(() => {
  orgMock.reset();
});

describe('Organisation policy layers: RCPs and SCPs on each account path', () => {
  it('reads the root, every OU on the path and the account, follows pages, and leaves out a sibling OU', async () => {
    // Prepare
    tree();

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A, DEV]);

    // Assess
    const [web, dev] = layers;
    expect(web).toMatchObject({
      accountId: WEB_A,
      organizationId: ORG_ID,
      managementAccountId: MANAGEMENT_ACCOUNT,
      path: [
        { id: ROOT_ID, type: 'ROOT' },
        { id: OU_PROD, type: 'ORGANIZATIONAL_UNIT' },
        { id: OU_WEB, type: 'ORGANIZATIONAL_UNIT' },
      ],
    });
    expect(web?.rcps).toEqual({
      ok: [
        expect.objectContaining({
          id: 'p-RCPFullAWSAccess',
          awsManaged: true,
          target: { id: ROOT_ID, type: 'ROOT' },
        }),
        expect.objectContaining({
          id: 'p-enforcetls1',
          name: 'EnforceTLS',
          target: { id: OU_PROD, type: 'ORGANIZATIONAL_UNIT' },
          content: RCP_HTTPS_ONLY,
        }),
      ],
    });
    expect(web?.scps).toEqual({
      ok: [expect.objectContaining({ id: 'p-scphttps01', content: SCP_HTTPS_ONLY })],
    });
    expect(dev?.rcps).toEqual({ ok: [expect.objectContaining({ id: 'p-RCPFullAWSAccess' })] });
  });

  it('reads each parent, attachment list and document once per scan, however many accounts share them', async () => {
    // Prepare
    tree();

    // Act
    const { calls } = await collectPolicyLayers(client, [WEB_A, WEB_B]);

    // Assess: DescribeOrganization + ListRoots; ListParents A, B, web, prod; per type the
    // root, prod (two RCP pages), web, A, B; three documents.
    expect(orgMock.commandCalls(ListParentsCommand)).toHaveLength(4);
    expect(orgMock.commandCalls(DescribePolicyCommand)).toHaveLength(3);
    expect(orgMock.commandCalls(ListPoliciesForTargetCommand)).toHaveLength(6 + 5);
    expect(calls).toBe(2 + 4 + 11 + 3);
  });

  it('records the management account as never covered by RCPs or SCPs, without reading its path', async () => {
    // Prepare
    tree();

    // Act
    const { layers } = await collectPolicyLayers(client, [MANAGEMENT_ACCOUNT]);

    // Assess
    expect(layers).toEqual([
      {
        accountId: MANAGEMENT_ACCOUNT,
        organizationId: ORG_ID,
        managementAccountId: MANAGEMENT_ACCOUNT,
        rcps: { absent: 'ManagementAccount' },
        scps: { absent: 'ManagementAccount' },
      },
    ]);
    expect(orgMock.commandCalls(ListParentsCommand)).toHaveLength(0);
  });

  it('records a policy type the root has not enabled as absent, and still reads the other', async () => {
    // Prepare
    tree(['SERVICE_CONTROL_POLICY']);

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A]);

    // Assess
    expect(layers[0]?.rcps).toEqual({ absent: 'PolicyTypeNotEnabled' });
    expect(layers[0]?.scps).toMatchObject({ ok: [{ id: 'p-scphttps01' }] });
  });

  it('records an account outside any organisation as such', async () => {
    // Prepare
    orgMock
      .on(DescribeOrganizationCommand)
      .rejects(
        organizationsError(
          'AWSOrganizationsNotInUseException',
          400,
          'Your account is not a member of an organization.',
        ),
      );

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A]);

    // Assess
    expect(layers).toEqual([
      {
        accountId: WEB_A,
        rcps: { absent: 'NotInOrganization' },
        scps: { absent: 'NotInOrganization' },
      },
    ]);
  });

  it('records a consolidated-billing organisation as having no authorization policies', async () => {
    // Prepare
    organization('CONSOLIDATED_BILLING');

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A]);

    // Assess
    expect(layers[0]?.rcps).toEqual({ absent: 'ConsolidatedBillingOnly' });
  });

  it('records a member that is not a delegated administrator as denied, never as "no RCPs"', async () => {
    // Prepare: any member may DescribeOrganization; ListRoots needs the management account.
    organization();
    orgMock
      .on(ListRootsCommand)
      .rejects(
        organizationsError(
          'AccessDeniedException',
          400,
          "You don't have permissions to access this resource.",
        ),
      );

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A]);

    // Assess
    expect(layers[0]?.rcps).toEqual({
      denied: 'AccessDeniedException',
      message: "You don't have permissions to access this resource.",
    });
    expect(layers[0]?.scps).toEqual(layers[0]?.rcps);
  });

  it('records a failed read on the path as the account error, and the other accounts still read', async () => {
    // Prepare
    tree();
    orgMock
      .on(ListParentsCommand, { ChildId: DEV })
      .rejects(
        organizationsError(
          'ChildNotFoundException',
          400,
          'We can’t find an organizational unit (OU) or AWS account with the ChildId that you specified.',
        ),
      );

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A, DEV]);

    // Assess
    expect(layers.find((l) => l.accountId === DEV)?.rcps).toMatchObject({
      error: 'ChildNotFoundException',
    });
    expect(layers.find((l) => l.accountId === WEB_A)?.rcps).toHaveProperty('ok');
  });

  it('refuses a DescribePolicy answer without Content and a NextToken returned twice', async () => {
    // Prepare
    tree();
    orgMock.on(DescribePolicyCommand, { PolicyId: 'p-enforcetls1' }).resolves({ Policy: {} });
    orgMock
      .on(ListPoliciesForTargetCommand, { TargetId: ROOT_ID, Filter: 'SERVICE_CONTROL_POLICY' })
      .resolves({ Policies: [], NextToken: 'same' });

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A]);

    // Assess
    expect(layers[0]?.rcps).toMatchObject({
      error: 'CollectError',
      message: 'DescribePolicy p-enforcetls1 returned no Content',
    });
    expect(layers[0]?.scps).toMatchObject({
      error: 'CollectError',
      message: 'Organizations ListPoliciesForTarget returned the NextToken same twice',
    });
  });

  it('never reads a ListRoots answer with no root as "RCPs not enabled"', async () => {
    // Prepare
    organization();
    orgMock.on(ListRootsCommand).resolves({ Roots: [] });

    // Act
    const { layers } = await collectPolicyLayers(client, [WEB_A]);

    // Assess
    expect(layers[0]?.rcps).toEqual({
      error: 'NoRoot',
      message: 'ListRoots returned no root, so the enabled policy types are unknown',
    });
  });
});
