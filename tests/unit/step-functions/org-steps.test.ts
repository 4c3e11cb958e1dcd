import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountSourceOf } from '../../../functions/common/env.js';
import { parseEnumerateInput } from '../../../functions/enumerate.js';
import { parseBucketItem } from '../../../functions/scan-bucket.js';
import { MemberRoles } from '../../../lib/collect/assume-role.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { defaultConfig } from '../../../lib/config/config.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { MemoryWorkArea } from '../../../lib/report-store/work-area.js';
import { finishScan } from '../../../lib/step-functions/finish-scan.js';
import {
  type BucketItem,
  type DistributedPlan,
  ITEMS,
  PLAN,
} from '../../../lib/step-functions/plan.js';
import { scanBucketStep } from '../../../lib/step-functions/scan-bucket.js';
import { startScan } from '../../../lib/step-functions/start-scan.js';
import { startFakeAccount } from '../../helpers/fake-account.js';
import { type FakeAws, startFakeAws } from '../../helpers/fake-aws-server.js';

/**
 * The distributed scan of an organisation: enumerate opens every account (member role,
 * ListBuckets, ListDirectoryBuckets) and writes one account x bucket item list; each item is
 * scanned as its account; finalize reads each member's KMS keys as that member and publishes
 * one report where an unreachable account and a failed item are ERROR findings, never gaps.
 * Every account is its own S3/STS/KMS server on 127.0.0.1.
 */
const OWN = '111111111111';
const MEMBER = '222222222222';
const DENIED = '333333333333';
const MEMBER_KEY = `arn:aws:kms:eu-west-1:${MEMBER}:key/44444444-4444-4444-8444-444444444444`;

describe('Distributed organisation scan: one account x bucket item list', () => {
  const servers = new Map<string, FakeAws>();
  let sts: FakeAws;

  beforeAll(async () => {
    servers.set(
      OWN,
      await startFakeAccount({
        account: OWN,
        buckets: [{ name: 'own-logs', region: 'eu-west-1' }],
      }),
    );
    servers.set(
      MEMBER,
      await startFakeAccount({
        account: MEMBER,
        buckets: [
          { name: 'member-data', region: 'eu-west-1', kmsKeyArn: MEMBER_KEY },
          { name: 'member-gone', region: 'eu-west-1' },
        ],
        keys: { [MEMBER_KEY]: { state: 'Enabled' } },
      }),
    );
    sts = await startFakeAws((request) => {
      const form = new URLSearchParams(request.body);
      const target = (form.get('RoleArn') ?? '').split(':')[4];
      if (target === DENIED)
        return {
          status: 403,
          headers: { 'content-type': 'text/xml' },
          body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        };
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA${target}</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>${new Date(Date.now() + 3_600_000).toISOString()}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      };
    });
  });
  afterAll(async () => {
    await Promise.all([...servers.values(), sts].map((s) => s?.close()));
  });

  const clientsOf = (account: string) =>
    new AwsClients(
      {
        maxAttempts: 1,
        endpoint: servers.get(account)?.endpoint ?? 'http://127.0.0.1:9',
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' },
      },
      'eu-west-1',
    );

  it('plans every account, scans each item as its account, and publishes unreachable accounts and failed items as ERROR', async () => {
    // Prepare
    const stsClient = new STSClient({
      region: 'eu-west-1',
      endpoint: sts.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' },
    });
    const scanId = 'org-sfn-1';
    const work = new MemoryWorkArea();
    const store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-org-sfn-')));
    const memberCalls: string[] = [];
    const memberClients = (account: string, role: { roleName: string }, forScan: string) => {
      memberCalls.push(`${account}:${role.roleName}:${forScan}`);
      return clientsOf(account);
    };

    // Act 1: enumerate.
    const planned = await startScan({
      clients: clientsOf(OWN),
      work: () => work,
      scanId,
      now: new Date('2026-12-01T06:00:00Z'),
      config: defaultConfig(),
      organization: {
        accounts: {
          accounts: [{ id: OWN }, { id: MEMBER, name: 'member' }, { id: DENIED }],
          skipped: [{ id: '444444444444', state: 'SUSPENDED', reason: 'it is suspended' }],
        },
        own: { accountId: OWN, arn: `arn:aws:sts::${OWN}:assumed-role/s3scan/x`, partition: 'aws' },
        roles: new MemberRoles(stsClient, { partition: 'aws', roleName: 's3scan-read', scanId }),
        memberRole: { roleName: 's3scan-read' },
        clientsFor: (account) => clientsOf(account),
        region: 'eu-west-1',
      },
    });
    const plan = (await work.get<DistributedPlan>(PLAN))!;
    const items = (await work.get<BucketItem[]>(ITEMS))!;

    // Act 2: the map, every item but member-gone (its item fails for good).
    for (const item of items.filter((i) => i.bucket !== 'member-gone'))
      expect(
        (
          await scanBucketStep({
            clients: clientsOf(OWN),
            memberClients,
            work,
            item,
            concurrency: 4,
          })
        ).done,
      ).toBe(true);

    // Act 3: finalize.
    const finished = await finishScan({ clients: clientsOf(OWN), memberClients, work, store });
    stsClient.destroy();

    // Assess: one item list, account by account, with the failed and skipped ones recorded.
    expect(planned).toMatchObject({ buckets: 3, accounts: 4 });
    expect(items.map((i) => `${i.account}/${i.bucket}`).sort()).toEqual([
      `${OWN}/own-logs`,
      `${MEMBER}/member-data`,
      `${MEMBER}/member-gone`,
    ]);
    expect(plan.accounts?.map((a) => [a.accountId, a.status])).toEqual([
      [OWN, 'scanned'],
      [MEMBER, 'scanned'],
      [DENIED, 'failed'],
      ['444444444444', 'skipped'],
    ]);
    expect(plan.scope).toMatchObject({ unreachableAccounts: [DENIED] });
    // Member items and the member's KMS keys went through the member's clients.
    expect(memberCalls).toContain(`${MEMBER}:s3scan-read:${scanId}`);
    expect(memberCalls.some((c) => c.startsWith(OWN))).toBe(false);
    const { findings, summary } = await store.readScan(finished.scanId);
    const of = (bucket: string, rule: string) =>
      findings.find((f) => f.resource.name === bucket && f.ruleId === rule);
    expect(of('member-data', 's3-bucket-kms-key-usable')).toMatchObject({
      status: 'PASS',
      resource: { account: MEMBER },
    });
    // The failed item: ERROR findings under its own account, never a missing row.
    expect(finished.failedBuckets).toEqual([`${MEMBER}/member-gone`]);
    expect(of('member-gone', 's3-bucket-tls-enforced')).toMatchObject({
      status: 'ERROR',
      resource: { account: MEMBER },
    });
    // The unreachable account: one ERROR saying both meanings of AccessDenied.
    expect(
      findings.filter((f) => f.resource.account === DENIED).map((f) => [f.ruleId, f.status]),
    ).toEqual([['s3-account-scanned', 'ERROR']]);
    expect(summary.byAccount?.[DENIED]?.ERROR).toBe(1);
    expect(summary.scope?.unreachableAccounts).toEqual([DENIED]);
  }, 60_000);

  it('refuses an item for a member account when the plan names no member role', async () => {
    // Prepare
    const work = new MemoryWorkArea();
    await work.put(PLAN, {
      scanId: 's',
      scanTime: '2026-12-01T06:00:00.000Z',
      accountId: OWN,
      partition: 'aws',
      callerArn: 'x',
      config: { document: {}, provenance: { origin: 'default' } },
      buckets: [{ bucket: 'b', region: 'eu-west-1', account: MEMBER }],
    } satisfies DistributedPlan);

    // Act + Assess
    await expect(
      scanBucketStep({
        clients: clientsOf(OWN),
        work,
        item: { scanId: 's', bucket: 'b', region: 'eu-west-1', account: MEMBER },
        concurrency: 1,
      }),
    ).rejects.toThrow(/member account 222222222222.*names no member role/);
    await expect(
      scanBucketStep({
        clients: clientsOf(OWN),
        work,
        item: { scanId: 's', bucket: 'other', region: 'eu-west-1' },
        concurrency: 1,
      }),
    ).rejects.toThrow(/not in the plan/);
  });

  it('reads the deployed account choice and validates organisation inputs', () => {
    expect(accountSourceOf('')).toBeUndefined();
    expect(accountSourceOf('org')).toEqual({ org: true });
    expect(accountSourceOf('ou-ab12-cdef3456, r-ab12')).toEqual({
      ou: ['ou-ab12-cdef3456', 'r-ab12'],
    });
    expect(accountSourceOf('111111111111,222222222222')).toEqual({
      accounts: '111111111111,222222222222',
    });
    expect(() => accountSourceOf('everything')).toThrow(/SCAN_ACCOUNTS "everything"/);
    expect(parseEnumerateInput({ accounts: ['111111111111'] })).toEqual({
      accounts: ['111111111111'],
    });
    expect(() => parseEnumerateInput({ accounts: ['1111'] })).toThrow(/accounts/);
    expect(() => parseEnumerateInput({ ous: ['not-an-ou'] })).toThrow(/ous/);
    expect(
      parseBucketItem({ scanId: 's', bucket: 'b', region: 'eu-west-1', account: MEMBER }),
    ).toMatchObject({
      account: MEMBER,
    });
    expect(() =>
      parseBucketItem({ scanId: 's', bucket: 'b', region: 'eu-west-1', account: 'x' }),
    ).toThrow(/account/);
  });
});
