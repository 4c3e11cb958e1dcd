import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemberRoles } from '../../../lib/collect/assume-role.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { collectOrganization } from '../../../lib/collect/org-scan.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { startFakeAccount } from '../../helpers/fake-account.js';
import { type FakeAws, type SeenRequest, startFakeAws } from '../../helpers/fake-aws-server.js';

/**
 * An organisation-wide collection over the wire: every account is its own S3/STS server on
 * 127.0.0.1, and one STS server plays AssumeRole as AWS answers it (XML of the query
 * protocol; AccessDenied 403 Sender, Throttling 400), so the SDK's own retries run.
 */
const OWN = '111111111111';
const MEMBER = '222222222222';
const DENIED = '333333333333';
const THROTTLED = '444444444444';
const IMPOSTOR = '555555555555';
const UNLISTABLE = '666666666666';
const FLAKY = '777777777777';
const SUSPENDED = '888888888888';

const stsXml = (body: string) => ({ status: 200, headers: { 'content-type': 'text/xml' }, body });
const stsErrorXml = (status: number, code: string, message: string) => ({
  status,
  headers: { 'content-type': 'text/xml' },
  body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>`,
});

describe('collectOrganization: every account through its role, failures recorded, never fatal', () => {
  const servers: FakeAws[] = [];
  const endpoints = new Map<string, string>();
  const arrivals: number[] = [];
  let sts: FakeAws;
  let flakyThrottles = 1;

  beforeAll(async () => {
    // Every request of every account is timed, to check the one bound across accounts.
    const timed = () => {
      arrivals.push(performance.now());
      return undefined;
    };
    const account = async (
      id: string,
      buckets: string[],
      extra: Partial<{ answerAs: string; listDenied: boolean }> = {},
    ) => {
      const server = await startFakeAccount(
        {
          account: extra.answerAs ?? id,
          buckets: buckets.map((name) => ({ name, region: 'eu-west-1' })),
        },
        {
          latencyMs: 30,
          fault: (_request, operation) => {
            timed();
            return extra.listDenied && operation === 'ListBuckets'
              ? {
                  status: 403,
                  headers: { 'content-type': 'application/xml' },
                  body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R</RequestId><HostId>H</HostId></Error>',
                }
              : undefined;
          },
        },
      );
      servers.push(server);
      endpoints.set(id, server.endpoint);
    };
    await account(OWN, ['own-a', 'own-b']);
    await account(MEMBER, ['member-a', 'member-b', 'member-c']);
    await account(IMPOSTOR, ['stranger'], { answerAs: '999999999999' });
    await account(UNLISTABLE, [], { listDenied: true });
    await account(FLAKY, ['flaky-a']);
    sts = await startFakeAws((request: SeenRequest) => {
      const form = new URLSearchParams(request.body);
      const arn = form.get('RoleArn') ?? '';
      const target = arn.split(':')[4] ?? '';
      if (target === DENIED)
        return stsErrorXml(
          403,
          'AccessDenied',
          `User: arn:aws:sts::${OWN}:assumed-role/scanner/s is not authorized to perform: sts:AssumeRole on resource: ${arn}`,
        );
      if (target === THROTTLED) return stsErrorXml(400, 'Throttling', 'Rate exceeded');
      if (target === FLAKY && flakyThrottles-- > 0)
        return stsErrorXml(400, 'Throttling', 'Rate exceeded');
      const expiration = new Date(Date.now() + 3_600_000).toISOString();
      return stsXml(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA${target}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::${target}:assumed-role/s3scan-read/${form.get('RoleSessionName')}</Arn><AssumedRoleId>AROA:${form.get('RoleSessionName')}</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    });
  });
  afterAll(async () => {
    await Promise.all([...servers, sts].map((s) => s?.close()));
  });

  it('merges the accounts it can read, and records each one it cannot with what AWS said', async () => {
    // Prepare
    const stsClient = new STSClient({
      region: 'eu-west-1',
      endpoint: sts.endpoint,
      maxAttempts: 3,
      credentials: { accessKeyId: 'AKIASCANNER', secretAccessKey: 's' },
    });
    const roles = new MemberRoles(stsClient, {
      partition: 'aws',
      roleName: 's3scan-read',
      externalId: 'org-secret',
      scanId: '2026-12-01T000000Z-abc',
    });
    const clientsFor = (accountId: string) =>
      new AwsClients(
        {
          maxAttempts: 2,
          endpoint: endpoints.get(accountId) ?? 'http://127.0.0.1:9',
          forcePathStyle: true,
          credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' },
        },
        'eu-west-1',
      );
    const progress: string[] = [];
    arrivals.length = 0;

    // Act
    const result = await collectOrganization({
      accounts: {
        accounts: [OWN, MEMBER, DENIED, THROTTLED, IMPOSTOR, UNLISTABLE, FLAKY].map((id) => ({
          id,
          name: `n-${id}`,
        })),
        skipped: [{ id: SUSPENDED, state: 'SUSPENDED', reason: 'it is suspended' }],
      },
      own: { accountId: OWN, arn: `arn:aws:sts::${OWN}:assumed-role/scanner/s`, partition: 'aws' },
      roles,
      clientsFor,
      accountConcurrency: 4,
      region: 'eu-west-1',
      collect: {
        concurrency: 3,
        scanId: '2026-12-01T000000Z-abc',
        scanTime: new Date('2026-12-01T00:00:00Z'),
        toolVersion: 'test',
        buckets: [],
        regions: [],
      },
      onAccount: (p) => {
        if (p.status !== 'started')
          progress.push(`${p.done}/${p.total} ${p.accountId} ${p.status}`);
      },
    });
    stsClient.destroy();

    // Assess: the buckets of the readable accounts, each under its own account.
    expect(result.interrupted).toBe(false);
    expect(result.evidence.accountId).toBe(OWN);
    expect(result.evidence.buckets.map((b) => `${b.accountId}/${b.name}`).sort()).toEqual(
      [
        `${FLAKY}/flaky-a`,
        `${OWN}/own-a`,
        `${OWN}/own-b`,
        `${MEMBER}/member-a`,
        `${MEMBER}/member-b`,
        `${MEMBER}/member-c`,
      ].sort(),
    );
    const byId = new Map(result.evidence.accounts?.map((a) => [a.accountId, a]));
    expect(byId.get(OWN)).toMatchObject({
      status: 'scanned',
      access: 'own',
      buckets: 2,
      name: `n-${OWN}`,
    });
    expect(byId.get(MEMBER)).toMatchObject({
      status: 'scanned',
      access: 'role',
      roleArn: `arn:aws:iam::${MEMBER}:role/s3scan-read`,
      buckets: 3,
    });
    // AccessDenied means two things; the record says both and what to deploy.
    expect(byId.get(DENIED)?.reason).toMatch(
      /AccessDenied.*does not exist.*trust policy.*ExternalId.*deploy\/member-role/,
    );
    // Throttling that outlasts the SDK's retries is a failure of that account alone.
    expect(byId.get(THROTTLED)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/Throttling/),
    });
    // A role is trusted to be its account only once STS says so.
    expect(byId.get(IMPOSTOR)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/answered as account 999999999999, not 555555555555/),
    });
    expect(result.evidence.buckets.some((b) => b.name === 'stranger')).toBe(false);
    expect(byId.get(UNLISTABLE)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/AccessDenied|Access Denied/),
    });
    // One throttled AssumeRole is retried by the SDK and the account is scanned.
    expect(byId.get(FLAKY)).toMatchObject({ status: 'scanned', buckets: 1 });
    expect(byId.get(SUSPENDED)).toMatchObject({
      status: 'skipped',
      reason: 'SUSPENDED: it is suspended',
    });
    // One AssumeRole per member account (the own account needs none).
    expect(roles.calls.get(OWN)).toBeUndefined();
    expect(roles.calls.get(MEMBER)).toBe(1);
    // The ExternalId and the session name reached STS.
    const assumed = sts.requests.map((r) => new URLSearchParams(r.body));
    expect(assumed.every((f) => f.get('ExternalId') === 'org-secret')).toBe(true);
    expect(assumed.every((f) => f.get('RoleSessionName') === 's3scan-2026-12-01T000000Z-abc')).toBe(
      true,
    );
    // Progress: one line per account as it finishes, counting up to all seven.
    expect(progress).toHaveLength(7);
    expect(progress.at(-1)).toMatch(/^7\/7 /);
    // At most `concurrency` calls in flight across all accounts: no 25 ms window (each answer
    // takes 30 ms) holds more than 3 arrivals, though 4 accounts run at once.
    const sorted = [...arrivals].sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i]! - sorted[j]! > 25) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(3);
    expect(sorted.length).toBeGreaterThan(20);

    // The account rule: PASS for the read ones, ERROR for the failed, SKIPPED for suspended.
    const { findings, summary } = evaluateScan(result.evidence);
    const accountFindings = findings.filter((f) => f.ruleId === 's3-account-scanned');
    expect(accountFindings.map((f) => `${f.resource.name}:${f.status}`)).toEqual([
      `${OWN}:PASS`,
      `${MEMBER}:PASS`,
      `${DENIED}:ERROR`,
      `${THROTTLED}:ERROR`,
      `${IMPOSTOR}:ERROR`,
      `${UNLISTABLE}:ERROR`,
      `${FLAKY}:PASS`,
      `${SUSPENDED}:SKIPPED`,
    ]);
    expect(accountFindings[2]).toMatchObject({
      resource: {
        arn: `arn:aws:iam::${DENIED}:root`,
        type: 'AWS::::Account',
        account: DENIED,
        region: 'eu-west-1',
      },
      evidenceRef: 'evidence/accounts.json',
    });
    expect(summary.byAccount?.[DENIED]).toEqual({ PASS: 0, FAIL: 0, ERROR: 1, SKIPPED: 0 });
    expect(summary.byAccount?.[MEMBER]?.PASS).toBeGreaterThan(3);
    expect(Object.keys(summary.byBucket)).not.toContain(DENIED);
    expect(summary.buckets).toBe(6);
  }, 60_000);

  it('stops at an abort and says it is incomplete, so nothing half-scanned is published', async () => {
    // Prepare
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    const stsClient = new STSClient({ region: 'eu-west-1', endpoint: sts.endpoint });
    const roles = new MemberRoles(stsClient, { partition: 'aws', roleName: 'r', scanId: 's' });

    // Act
    const result = await collectOrganization({
      accounts: { accounts: [{ id: OWN }, { id: MEMBER }], skipped: [] },
      own: { accountId: OWN, arn: 'arn:aws:sts::111111111111:assumed-role/x/y', partition: 'aws' },
      roles,
      clientsFor: () =>
        new AwsClients({ maxAttempts: 1, endpoint: 'http://127.0.0.1:9' }, 'eu-west-1'),
      accountConcurrency: 2,
      region: 'eu-west-1',
      collect: {
        concurrency: 2,
        scanId: 's',
        scanTime: new Date('2026-12-01T00:00:00Z'),
        toolVersion: 'test',
        signal: controller.signal,
      },
    });
    stsClient.destroy();

    // Assess
    expect(result.interrupted).toBe(true);
    expect(result.evidence.buckets).toEqual([]);
  });
});
