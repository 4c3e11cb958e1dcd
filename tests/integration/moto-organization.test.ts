import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemberRoles, stsClient } from '../../lib/collect/assume-role.js';
import { AwsClients } from '../../lib/collect/clients.js';
import { collectEvidence } from '../../lib/collect/scan.js';
import { isolatedHome, startCli } from '../helpers/cli.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';

/**
 * The organisation preflight (`s3scan accounts`) with the real CLI against moto as the
 * organisation: CreateOrganization, member accounts, one closed (SUSPENDED), and AssumeRole
 * into OrganizationAccountAccessRole, whose credentials moto confines to that member.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}

const BUILD_ORG = `
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
org = boto3.client('organizations', **kw)
org.create_organization(FeatureSet='ALL')
ids = {}
for name in ['prod', 'dev', 'old']:
    r = org.create_account(Email=name + '@example.com', AccountName=name)
    ids[name] = org.describe_create_account_status(CreateAccountRequestId=r['CreateAccountStatus']['Id'])['CreateAccountStatus']['AccountId']
org.close_account(AccountId=ids['old'])
sts = boto3.client('sts', **kw)
for name in ['prod', 'dev']:
    c = sts.assume_role(RoleArn='arn:aws:iam::%s:role/OrganizationAccountAccessRole' % ids[name], RoleSessionName='setup')['Credentials']
    s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])
    s3.create_bucket(Bucket=name + '-data-' + ids[name])
    s3.put_bucket_encryption(Bucket=name + '-data-' + ids[name], ServerSideEncryptionConfiguration={'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'AES256'}}]})
print(json.dumps(ids))
`;

describe.skipIf(!availability.ok)('s3scan accounts against moto as the organisation', () => {
  let moto: MotoServer;
  let ids: Record<'prod' | 'dev' | 'old', string>;
  const run = async (args: string[]) => {
    const home = isolatedHome();
    const cli = startCli(
      ['accounts', ...args],
      {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
      },
      home,
    );
    const done = await cli.done;
    return { code: done.code, stdout: cli.stdout(), stderr: cli.stderr() };
  };

  beforeAll(async () => {
    moto = await startMoto();
    ids = JSON.parse(
      execFileSync('python3', ['-c', BUILD_ORG, moto.endpoint], { encoding: 'utf8' }).trim(),
    );
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('lists the ACTIVE accounts to scan and skips the closed one, saying why', async () => {
    // Act
    const listed = await run(['--org', '--format', 'json']);

    // Assess
    expect(listed.code, listed.stderr).toBe(0);
    const list = JSON.parse(listed.stdout) as {
      accounts: { id: string; name?: string }[];
      skipped: { id: string; state: string; reason: string }[];
    };
    expect(list.accounts.map((a) => a.id)).toEqual(
      expect.arrayContaining([ids.prod, ids.dev, '123456789012']),
    );
    expect(list.accounts.map((a) => a.id)).not.toContain(ids.old);
    expect(list.skipped).toEqual([
      expect.objectContaining({
        id: ids.old,
        state: 'SUSPENDED',
        reason: expect.stringMatching(/suspended/),
      }),
    ]);
  }, 60_000);

  it('assumes the member role in every member, and uses its own credentials at home', async () => {
    // Act
    const checked = await run([
      '--org',
      '--check',
      '--role-name',
      'OrganizationAccountAccessRole',
      '--format',
      'json',
    ]);

    // Assess
    expect(checked.code, checked.stderr).toBe(0);
    const { checks } = JSON.parse(checked.stdout) as {
      checks: { accountId: string; ok: boolean; via?: string; arn?: string }[];
    };
    const byId = new Map(checks.map((c) => [c.accountId, c]));
    expect(byId.get('123456789012')).toMatchObject({ ok: true, via: 'own' });
    for (const member of [ids.prod, ids.dev])
      expect(byId.get(member)).toMatchObject({
        ok: true,
        via: 'role',
        // moto answers GetCallerIdentity as the member: the role's credentials are its own.
        arn: expect.stringContaining(
          `arn:aws:sts::${member}:assumed-role/OrganizationAccountAccessRole/s3scan-`,
        ),
      });
  }, 60_000);

  it('reads an explicit list and refuses a wrong id with exit 2', async () => {
    const table = await run(['--accounts', `${ids.prod},${ids.dev}`]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('2 to scan, 0 skipped');
    const wrong = await run(['--accounts', '12345']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/"12345" is not an account id/);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/exactly one of --org, --ou or --accounts/);
  }, 60_000);

  it('collects a member account’s evidence through its role: that member’s buckets only', async () => {
    // Prepare: the SDK pointed at moto, as the CLI is by AWS_ENDPOINT_URL.
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
    });
    const sts = stsClient('us-east-1');
    const roles = new MemberRoles(sts, {
      partition: 'aws',
      roleName: 'OrganizationAccountAccessRole',
      scanId: 'org-test',
    });
    const clients = new AwsClients(
      { maxAttempts: 3, credentials: roles.provider(ids.prod) },
      'us-east-1',
    );
    try {
      // Act
      const result = await collectEvidence({
        clients,
        concurrency: 4,
        scanId: 'org-test',
        scanTime: new Date('2026-12-01T00:00:00Z'),
        toolVersion: 'test',
        buckets: [],
        regions: [],
      });

      // Assess
      expect(result.evidence.accountId).toBe(ids.prod);
      expect(result.evidence.buckets.map((b) => [b.name, b.accountId])).toEqual([
        [`prod-data-${ids.prod}`, ids.prod],
      ]);
      expect(roles.calls.get(ids.prod)).toBe(1);
    } finally {
      clients.destroy();
      sts.destroy();
      process.env = saved;
    }
  }, 60_000);
});
