import {
  type Account,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { checkMemberAccess, MemberRoles, sessionNameOf } from '../../../lib/collect/assume-role.js';
import {
  listAccountsUnder,
  listOrganizationAccounts,
  parseAccountList,
} from '../../../lib/collect/organization.js';
import { organizationsError, stsError } from '../../helpers/aws-errors.js';

const orgMock = mockClient(OrganizationsClient);
const stsMock = mockClient(STSClient);
const org = new OrganizationsClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});
const sts = new STSClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});

/** An Account as ListAccounts answers it (Status is legacy; State is what counts). */
const account = (id: string, state: string, extra: Record<string, unknown> = {}): Account =>
  ({
    Id: id,
    Arn: `arn:aws:organizations::111111111111:account/o-abc123/${id}`,
    Email: `aws+${id}@example.com`,
    Name: `acct-${id}`,
    Status: state === 'ACTIVE' ? 'ACTIVE' : 'SUSPENDED',
    State: state,
    JoinedMethod: 'CREATED',
    JoinedTimestamp: new Date('2024-01-01T00:00:00Z'),
    ...extra,
  }) as Account;

afterEach(() => {
  orgMock.reset();
  stsMock.reset();
});

describe('Organizations: the accounts of a scan', () => {
  it('follows NextToken through empty pages and keeps only ACTIVE accounts, saying why for the rest', async () => {
    // Prepare: page 2 is empty but carries a token, as Organizations may answer.
    orgMock
      .on(ListAccountsCommand, { NextToken: undefined })
      .resolves({
        Accounts: [account('222222222222', 'ACTIVE'), account('333333333333', 'SUSPENDED')],
        NextToken: 't1',
      })
      .on(ListAccountsCommand, { NextToken: 't1' })
      .resolves({ Accounts: [], NextToken: 't2' })
      .on(ListAccountsCommand, { NextToken: 't2' })
      .resolves({
        Accounts: [
          account('444444444444', 'PENDING_ACTIVATION'),
          account('111111111111', 'ACTIVE'),
          // Status says ACTIVE, State is absent: Status is retired, so this is not guessed active.
          { Id: '555555555555', Status: 'ACTIVE' },
        ],
      });

    // Act
    const list = await listOrganizationAccounts(org);

    // Assess
    expect(list.accounts.map((a) => a.id)).toEqual(['111111111111', '222222222222']);
    expect(list.skipped).toEqual([
      expect.objectContaining({
        id: '333333333333',
        state: 'SUSPENDED',
        reason: expect.stringMatching(/suspended/),
      }),
      expect.objectContaining({
        id: '444444444444',
        state: 'PENDING_ACTIVATION',
        reason: expect.stringMatching(/sign-up is not finished/),
      }),
      expect.objectContaining({ id: '555555555555', state: 'unknown' }),
    ]);
    expect(
      orgMock.commandCalls(ListAccountsCommand).map((c) => c.args[0].input.MaxResults),
    ).toEqual([20, 20, 20]);
  });

  it.each([
    [
      'AWSOrganizationsNotInUseException',
      400,
      /not in an organisation; list the accounts with --accounts/,
    ],
    [
      'AccessDeniedException',
      400,
      /run from the management account, or from a member the management account delegated/,
    ],
    ['TooManyRequestsException', 400, /TooManyRequestsException.*try again later/],
  ])('explains %s', async (name, status, message) => {
    orgMock.on(ListAccountsCommand).rejects(organizationsError(name, status, 'x'));
    await expect(listOrganizationAccounts(org)).rejects.toThrow(message);
  });

  it('refuses a NextToken seen before instead of listing for ever', async () => {
    orgMock.on(ListAccountsCommand).resolves({ Accounts: [], NextToken: 'same' });
    await expect(listOrganizationAccounts(org)).rejects.toThrow(
      /returned the NextToken same twice/,
    );
  });

  it('walks OUs recursively, each account once', async () => {
    // Prepare: ou-root-a holds one account and ou-child (two pages), which holds another.
    orgMock
      .on(ListAccountsForParentCommand, { ParentId: 'ou-ab12-aaaaaaaa' })
      .resolves({ Accounts: [account('222222222222', 'ACTIVE')] })
      .on(ListAccountsForParentCommand, { ParentId: 'ou-ab12-bbbbbbbb' })
      .resolves({
        Accounts: [account('333333333333', 'ACTIVE'), account('222222222222', 'ACTIVE')],
      })
      .on(ListOrganizationalUnitsForParentCommand, {
        ParentId: 'ou-ab12-aaaaaaaa',
        NextToken: undefined,
      })
      .resolves({ OrganizationalUnits: [], NextToken: 'p2' })
      .on(ListOrganizationalUnitsForParentCommand, {
        ParentId: 'ou-ab12-aaaaaaaa',
        NextToken: 'p2',
      })
      .resolves({ OrganizationalUnits: [{ Id: 'ou-ab12-bbbbbbbb', Name: 'child' }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'ou-ab12-bbbbbbbb' })
      .resolves({ OrganizationalUnits: [] });

    // Act
    const list = await listAccountsUnder(org, ['ou-ab12-aaaaaaaa']);

    // Assess
    expect(list.accounts.map((a) => a.id)).toEqual(['222222222222', '333333333333']);
    await expect(listAccountsUnder(org, ['ou-../etc'])).rejects.toThrow(/is not an OU id/);
  });

  it('reads an explicit list: commas, lines, comments; refuses what is not an account id', () => {
    expect(
      parseAccountList('# prod\n222222222222, 111111111111\n\n222222222222 # dup', 'accounts.txt'),
    ).toEqual([{ id: '111111111111' }, { id: '222222222222' }]);
    expect(() => parseAccountList('12345,abc', '--accounts')).toThrow(
      /--accounts: "12345", "abc" are not account ids \(12 digits\)/,
    );
    expect(() => parseAccountList('# nothing', 'a.txt')).toThrow(/no account id/);
  });
});

describe('STS: the member roles', () => {
  const credentials = (expiration: Date) => ({
    Credentials: {
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: expiration,
    },
    AssumedRoleUser: {
      AssumedRoleId: 'AROA:s3scan',
      Arn: 'arn:aws:sts::222222222222:assumed-role/s3scan-read/s3scan-x',
    },
  });

  it('assumes once per account, shares the call, and refreshes before expiry in a long scan', async () => {
    // Prepare: a clock the test moves; credentials that last an hour.
    let now = Date.parse('2026-12-01T00:00:00Z');
    stsMock.on(AssumeRoleCommand).callsFake(async () => credentials(new Date(now + 3_600_000)));
    const roles = new MemberRoles(sts, {
      partition: 'aws',
      roleName: 's3scan-read',
      externalId: 'org-secret-1',
      scanId: '20261201T000000Z-abc',
      now: () => now,
    });

    // Act: ten concurrent clients, then 50 minutes later, then 56 (inside the 5-minute margin).
    await Promise.all(Array.from({ length: 10 }, () => roles.credentials('222222222222')));
    now += 50 * 60_000;
    await roles.credentials('222222222222');
    now += 6 * 60_000;
    const refreshed = await roles.credentials('222222222222');

    // Assess
    expect(roles.calls.get('222222222222')).toBe(2);
    expect(refreshed.expiration.getTime()).toBe(now + 3_600_000);
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: 'arn:aws:iam::222222222222:role/s3scan-read',
      RoleSessionName: 's3scan-20261201T000000Z-abc',
      DurationSeconds: 3600,
      ExternalId: 'org-secret-1',
    });
  });

  it('says both possibilities of an AccessDenied, and what to deploy', async () => {
    // Prepare
    stsMock
      .on(AssumeRoleCommand)
      .rejects(
        stsError(
          'AccessDenied',
          403,
          'User: arn:aws:sts::111111111111:assumed-role/s3scan-scan/fn is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/s3scan-read',
        ),
      );
    const roles = new MemberRoles(sts, { partition: 'aws', roleName: 's3scan-read', scanId: 's' });

    // Act + Assess
    await expect(roles.credentials('222222222222')).rejects.toThrow(
      /could not assume arn:aws:iam::222222222222:role\/s3scan-read \(AccessDenied\): STS answers the same when the role does not exist and when its trust policy does not admit this scanner\. Deploy the member role \(deploy\/member-role\.yml/,
    );
    // A failure is not cached as an answer: the next call tries again.
    stsMock.on(AssumeRoleCommand).resolves(credentials(new Date(Date.now() + 3_600_000)));
    await expect(roles.credentials('222222222222')).resolves.toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
    });
  });

  it('refuses role names and external ids STS would refuse, and makes a valid session name', () => {
    expect(() => new MemberRoles(sts, { partition: 'aws', roleName: 'a/b', scanId: 's' })).toThrow(
      /is not an IAM role name/,
    );
    expect(
      () => new MemberRoles(sts, { partition: 'aws', roleName: 'r', externalId: 'x', scanId: 's' }),
    ).toThrow(/--external-id must be 2–1224 characters/);
    const name = sessionNameOf(`scan id with spaces/and:colons-${'x'.repeat(80)}`);
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(name.startsWith('s3scan-scan-id-with-spaces-and-colons-')).toBe(true);
  });

  it('preflight: own account as is, a member through its role, a mismatch or a refusal said', async () => {
    // Prepare
    const own = { accountId: '111111111111', arn: 'arn:aws:sts::111111111111:assumed-role/ci/x' };
    stsMock
      .on(AssumeRoleCommand)
      .resolves(credentials(new Date(Date.now() + 3_600_000)))
      .on(GetCallerIdentityCommand)
      .resolvesOnce({
        Account: '222222222222',
        Arn: 'arn:aws:sts::222222222222:assumed-role/s3scan-read/s',
      })
      .resolvesOnce({ Account: '999999999999', Arn: 'arn:aws:sts::999999999999:assumed-role/x/s' });
    const roles = new MemberRoles(sts, { partition: 'aws', roleName: 's3scan-read', scanId: 's' });

    // Act
    const home = await checkMemberAccess(roles, '111111111111', own, 'eu-west-1');
    const member = await checkMemberAccess(roles, '222222222222', own, 'eu-west-1');
    const confused = await checkMemberAccess(roles, '333333333333', own, 'eu-west-1');
    stsMock.on(AssumeRoleCommand).rejects(stsError('AccessDenied', 403, 'not authorized'));
    const refused = await checkMemberAccess(roles, '444444444444', own, 'eu-west-1');

    // Assess
    expect(home).toEqual({ accountId: '111111111111', ok: true, arn: own.arn, via: 'own' });
    expect(member).toMatchObject({ ok: true, via: 'role' });
    expect(confused).toMatchObject({
      ok: false,
      reason: 'the role answered as account 999999999999, not 333333333333',
    });
    expect(refused).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/AccessDenied.*does not exist/),
    });
  });
});
