import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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
  const run = async (args: string[], endpoint = moto.endpoint) => {
    const home = isolatedHome();
    const cli = startCli(
      ['scan', 'report', 'diff', 'rescan', 'alert'].includes(args[0] ?? '')
        ? args
        : ['accounts', ...args],
      {
        AWS_ENDPOINT_URL: endpoint,
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
    await new Promise((resolve) => denying?.close(resolve) ?? resolve(undefined));
    await moto?.stop();
  });

  /**
   * moto grants every AssumeRole, so the member whose role is missing is played by a proxy on
   * 127.0.0.1 in front of moto: it answers AssumeRole into that account as STS does (403,
   * Sender AccessDenied) and passes everything else through.
   */
  let denying: Server | undefined;
  const denyingProxy = async (deniedAccount: string): Promise<string> => {
    const target = new URL(moto.endpoint);
    denying = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const form = new URLSearchParams(body.toString('utf8'));
        if (
          form.get('Action') === 'AssumeRole' &&
          form.get('RoleArn')?.includes(`::${deniedAccount}:`)
        ) {
          res.writeHead(403, { 'content-type': 'text/xml', 'x-amzn-requestid': 'denied-1' });
          res.end(
            `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/scanner/s is not authorized to perform: sts:AssumeRole on resource: ${form.get('RoleArn')}</Message></Error><RequestId>denied-1</RequestId></ErrorResponse>`,
          );
          return;
        }
        const forward = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: target.host },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', () => res.destroy());
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => denying!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(denying.address() as AddressInfo).port}`;
  };

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

  it('scans the whole organisation into an S3 store; a member whose role is denied is one ERROR, and its buckets turn unverifiable, not gone', async () => {
    // Prepare: the report bucket, in the scanner's own account.
    execFileSync('python3', [
      '-c',
      "import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing').create_bucket(Bucket='org-reports')",
      moto.endpoint,
    ]);
    const store = 's3://org-reports/org';
    const scan = [
      'scan',
      '--org',
      '--role-name',
      'OrganizationAccountAccessRole',
      '--store',
      store,
    ];

    // Act: a scan that reaches every member, then one where dev's role cannot be assumed.
    const first = await run([...scan, '--format', 'json']);
    const proxy = await denyingProxy(ids.dev);
    const second = await run([...scan, '--format', 'summary'], proxy);
    const devReport = await run([
      'report',
      '--store',
      store,
      '--account',
      ids.dev,
      '--format',
      'json',
    ]);
    const prodReport = await run([
      'report',
      '--store',
      store,
      '--account',
      ids.prod,
      '--format',
      'json',
    ]);
    const drift = await run(['diff', '--store', store, '--format', 'json']);
    const unknown = await run(['report', '--store', store, '--account', '999999999999']);

    // Assess: the first scan covers the three ACTIVE accounts, each with its own buckets.
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('Accounts: 3 scanned, 0 failed, 1 skipped (not ACTIVE)');
    expect(first.stderr).toMatch(new RegExp(`account ${ids.prod} scanned, 1 bucket`));
    const firstScan = JSON.parse(first.stdout) as {
      summary: {
        byAccount: Record<string, { PASS: number }>;
        accounts: { accountId: string; status: string; reason?: string }[];
      };
      findings: { ruleId: string; status: string; resource: { name: string; account: string } }[];
    };
    const bucketsOf = (account: string) => [
      ...new Set(
        firstScan.findings
          .filter((f) => f.resource.account === account && f.ruleId !== 's3-account-scanned')
          .map((f) => f.resource.name),
      ),
    ];
    expect(bucketsOf(ids.prod)).toEqual([`prod-data-${ids.prod}`]);
    expect(bucketsOf(ids.dev)).toEqual([`dev-data-${ids.dev}`]);
    expect(bucketsOf('123456789012')).toEqual(['org-reports']);
    expect(firstScan.summary.accounts).toContainEqual(
      expect.objectContaining({
        accountId: ids.old,
        status: 'skipped',
        reason: expect.stringMatching(/^SUSPENDED: /),
      }),
    );

    // The second: dev is one ERROR naming both meanings of AccessDenied; the others go on.
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('Accounts: 2 scanned, 1 failed, 1 skipped (not ACTIVE)');
    expect(second.stderr).toMatch(new RegExp(`account ${ids.dev} FAILED: could not assume`));
    expect(devReport.code, devReport.stderr).toBe(0);
    const dev = JSON.parse(devReport.stdout) as typeof firstScan;
    expect(dev.findings).toEqual([
      expect.objectContaining({
        ruleId: 's3-account-scanned',
        status: 'ERROR',
        message: expect.stringMatching(
          /AccessDenied.*does not exist.*trust policy.*Deploy the member role/,
        ),
        resource: expect.objectContaining({ type: 'AWS::::Account', account: ids.dev }),
      }),
    ]);
    const prod = JSON.parse(prodReport.stdout) as typeof firstScan;
    expect(prod.findings.length).toBeGreaterThan(1);
    expect(prod.findings.every((f) => f.resource.account === ids.prod)).toBe(true);

    // Drift: dev's findings that passed or failed are unverifiable; nothing is gone.
    expect(drift.code, drift.stderr).toBe(0);
    const changes = JSON.parse(drift.stdout) as {
      counts: Record<string, number>;
      unverifiable: { ruleId: string; resource: { account: string } }[];
    };
    expect(changes.counts.gone).toBe(0);
    expect(changes.unverifiable.length).toBeGreaterThan(1);
    expect(changes.unverifiable.every((f) => f.resource.account === ids.dev)).toBe(true);
    expect(changes.unverifiable.map((f) => f.ruleId)).toContain('s3-account-scanned');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--account 999999999999: scan .* covered the accounts/);
  }, 120_000);

  it('sends each member’s findings to its own Security Hub through its member role; without the role option they are reported, not sent', async () => {
    // Prepare: Security Hub on in the scanner's account and in prod and dev, a store, a config.
    const HUB = `
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
def hub(account):
    if account == '123456789012':
        return boto3.client('securityhub', **kw)
    c = boto3.client('sts', **kw).assume_role(RoleArn='arn:aws:iam::%s:role/OrganizationAccountAccessRole' % account, RoleSessionName='check')['Credentials']
    return boto3.client('securityhub', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])
if sys.argv[2] == 'enable':
    for account in sys.argv[3:]:
        hub(account).enable_security_hub()
    boto3.client('s3', **kw).create_bucket(Bucket='org-alerts')
else:
    out = {}
    for account in sys.argv[3:]:
        out[account] = sorted({f['AwsAccountId'] for f in hub(account).get_findings()['Findings']})
    print(json.dumps(out))
`;
    const accounts = ['123456789012', ids.prod, ids.dev];
    execFileSync('python3', ['-c', HUB, moto.endpoint, 'enable', ...accounts]);
    const home = isolatedHome();
    const config = join(home, 'alerts.yml');
    writeFileSync(config, 'alerts:\n  minSeverity: informational\n  securityHub: {}\n');
    const store = 's3://org-alerts/org';
    const scan = await run([
      'scan',
      '--org',
      '--role-name',
      'OrganizationAccountAccessRole',
      '--store',
      store,
      '--format',
      'summary',
    ]);
    const alert = (extra: string[]) =>
      run(['alert', '--store', store, '--config', config, '--format', 'json', ...extra]);

    // Act: first without the member role (the scanner's own findings only), then with it.
    const withoutRole = await alert([]);
    const withRole = await alert(['--role-name', 'OrganizationAccountAccessRole']);
    const imported = JSON.parse(
      execFileSync('python3', ['-c', HUB, moto.endpoint, 'read', ...accounts], {
        encoding: 'utf8',
      }),
    ) as Record<string, string[]>;

    // Assess
    expect(scan.code, scan.stderr).toBe(0);
    const hubOf = (out: string) =>
      (
        JSON.parse(out) as {
          sinks: {
            sink: string;
            sent: number;
            alreadySent: number;
            failed: { code: string; reason: string }[];
          }[];
        }
      ).sinks.find((s) => s.sink === 'securityhub')!;
    const first = hubOf(withoutRole.stdout);
    expect(withoutRole.code).toBe(5);
    expect(first.failed.length).toBeGreaterThan(0);
    expect(first.failed.every((f) => f.code === 'OtherAccount')).toBe(true);
    expect(first.failed[0]?.reason).toMatch(/through each member's role/);
    const second = hubOf(withRole.stdout);
    expect(withRole.code, withRole.stdout).toBe(0);
    expect(second.failed).toEqual([]);
    expect(second.sent).toBe(first.failed.length);
    expect(imported).toEqual({
      '123456789012': ['123456789012'],
      [ids.prod]: [ids.prod],
      [ids.dev]: [ids.dev],
    });
  }, 120_000);

  it('rescans a member account’s bucket from its forwarded event through the member role, and sets it aside without one', async () => {
    // Prepare: the event of a change in prod, as the forwarder delivers it to the scanner.
    const bucket = `prod-data-${ids.prod}`;
    const home = isolatedHome();
    const file = join(home, 'event.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: '0',
        id: 'fwd-1',
        'detail-type': 'AWS API Call via CloudTrail',
        source: 'aws.s3',
        account: ids.prod,
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: {
          eventSource: 's3.amazonaws.com',
          eventName: 'PutBucketEncryption',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          recipientAccountId: ids.prod,
          userIdentity: { arn: `arn:aws:iam::${ids.prod}:user/ops` },
          requestParameters: { bucketName: bucket },
        },
      }),
    );
    const store = 's3://org-reports/org';

    // Act
    const without = await run(['rescan', '--event', file, '--store', store]);
    const withRole = await run([
      'rescan',
      '--event',
      file,
      '--store',
      store,
      '--role-name',
      'OrganizationAccountAccessRole',
      '--format',
      'json',
    ]);

    // Assess
    expect(without.code, without.stderr).toBe(0);
    expect(without.stderr).toMatch(
      new RegExp(`skipped bucket ${bucket}: account ${ids.prod} is a member account`),
    );
    expect(without.stderr).toContain('Nothing to rescan.');
    expect(withRole.code, withRole.stdout).toBe(0);
    expect(withRole.stderr).toMatch(new RegExp(`Rescanned 1 bucket \\(${bucket}\\)`));
    const { findings, summary } = JSON.parse(withRole.stdout) as {
      findings: { resource: { name: string; account: string; type: string } }[];
      summary: { source: string; scope: { accounts: string[]; buckets: string[] } };
    };
    expect(summary).toMatchObject({
      source: 'rescan',
      scope: { accounts: [ids.prod], buckets: [bucket] },
    });
    const buckets = findings.filter((f) => f.resource.type === 'AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThan(3);
    expect(
      buckets.every((f) => f.resource.name === bucket && f.resource.account === ids.prod),
    ).toBe(true);
  }, 120_000);
});
