import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketVersioningCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketsCommand,
  ListDirectoryBucketsCommand,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsSettings } from '../lib/aws/bucket-settings.js';
import { AwsClients } from '../lib/collect/clients.js';
import { defaultConfig } from '../lib/config/config.js';
import { bucketEvidencePath } from '../lib/evidence/paths.js';
import type { BucketEvidenceFile } from '../lib/evidence/types.js';
import { applyPlan, bucketsToRescan, proveFixes } from '../lib/remediation/apply.js';
import { type FixPlan, findingsToFix, planFixes } from '../lib/remediation/plan.js';
import { LocalReportStore } from '../lib/report-store/local.js';
import { runRescan } from '../lib/scan/rescan.js';
import { runScan } from '../lib/scan/run-scan.js';
import { report, timeIt } from './common.js';

const ACCOUNT = '111122223333';

/**
 * An account of `count` SSE-S3 buckets without a policy, every call answered after
 * `latencyMs`; PutBucketPolicy stores the policy, so the rescan reads what the fix wrote.
 */
function mockAccount(count: number, latencyMs: number) {
  const s3 = mockClient(S3Client);
  const sts = mockClient(STSClient);
  const policies = new Map<string, string>();
  const later = <T>(value: () => T) =>
    new Promise<T>((resolve, reject) =>
      setTimeout(() => {
        try {
          resolve(value());
        } catch (error) {
          reject(error);
        }
      }, latencyMs),
    );
  const names = Array.from({ length: count }, (_, i) => `bucket-${String(i).padStart(4, '0')}`);
  sts
    .on(GetCallerIdentityCommand)
    .callsFake(() =>
      later(() => ({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/s3scan/b` })),
    );
  s3.on(ListBucketsCommand).callsFake(() =>
    later(() => ({ Buckets: names.map((Name) => ({ Name, BucketRegion: 'us-east-1' })) })),
  );
  s3.on(ListDirectoryBucketsCommand).callsFake(() => later(() => ({ Buckets: [] })));
  s3.on(GetBucketEncryptionCommand).callsFake(() =>
    later(() => ({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
            BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
          },
        ],
      },
    })),
  );
  s3.on(GetBucketPolicyCommand).callsFake((input: { Bucket: string }) =>
    later(() => {
      const policy = policies.get(input.Bucket);
      if (policy === undefined)
        throw Object.assign(new Error('The bucket policy does not exist'), {
          name: 'NoSuchBucketPolicy',
          $metadata: { httpStatusCode: 404 },
        });
      return { Policy: policy };
    }),
  );
  s3.on(PutBucketPolicyCommand).callsFake((input: { Bucket: string; Policy: string }) =>
    later(() => {
      policies.set(input.Bucket, input.Policy);
      return {};
    }),
  );
  s3.on(GetBucketPolicyStatusCommand).callsFake(() =>
    later(() => ({ PolicyStatus: { IsPublic: false } })),
  );
  s3.on(GetBucketVersioningCommand).callsFake(() => later(() => ({ Status: 'Enabled' })));
  s3.on(ListBucketInventoryConfigurationsCommand).callsFake(() =>
    later(() => ({ IsTruncated: false })),
  );
  return {
    names,
    policies,
    calls: () => s3.calls().length,
    restore: () => {
      s3.restore();
      sts.restore();
    },
  };
}

/**
 * Remediation. A 100-bucket account whose buckets all fail s3-bucket-tls-enforced, every call
 * answered after 20 ms: the calls per fixed bucket (a re-read, the write, the read-back:
 * target 3), and the wall time of plan + apply + rescan against the physical limit of each
 * step (calls x latency / concurrency) and against the naive way in the same run (one bucket
 * at a time).
 */
export async function benchRemediation(quick: boolean): Promise<void> {
  const buckets = quick ? 40 : 100;
  const latencyMs = 20;
  const concurrency = 8;
  const clients = () =>
    new AwsClients(
      { maxAttempts: 3, credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'x' } },
      'us-east-1',
    );
  const runs: Record<string, { plan: number; apply: number; rescan: number; proven: number }> = {};
  let callsPerBucket = 0;
  for (const [name, lanes] of [
    ['s3scan', concurrency],
    ['one at a time', 1],
  ] as const) {
    const account = mockAccount(buckets, latencyMs);
    const store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-bench-fix-')));
    try {
      const scan = await runScan(
        {
          scanId: `scan-${lanes}`,
          scanTime: new Date('2026-12-07T06:00:00Z'),
          buckets: [],
          regions: [],
          config: defaultConfig(),
        },
        { clients: clients(), store },
      );
      if (scan.status !== 'completed') throw new Error('the scan did not complete');
      // The plan as `s3scan fix` makes it: the stored findings, then each bucket's evidence.
      const planned = await timeIt(async () => {
        const { findings } = await store.readScan(scan.scanId);
        const evidence = new Map<string, BucketEvidenceFile>();
        for (const f of findingsToFix(findings)) {
          const bytes = await store.readScanFile(
            scan.scanId,
            bucketEvidencePath(f.resource.account, f.resource.region, f.resource.name),
          );
          if (bytes) evidence.set(f.resource.name, JSON.parse(bytes.toString('utf8')));
        }
        return planFixes({
          scanId: scan.scanId,
          findings,
          evidenceOf: (f) => evidence.get(f.resource.name),
          filters: { rules: ['s3-bucket-tls-enforced'] },
          now: new Date(),
        });
      });
      const plan: FixPlan = planned.result;
      const before = account.calls();
      const applied = await timeIt(() =>
        applyPlan(plan, {
          settings: awsSettings(clients()),
          records: store.fixRecords(),
          by: `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityAdmin/bench`,
          account: ACCOUNT,
          concurrency: lanes,
        }),
      );
      const applyCalls = account.calls() - before;
      const rescanned = await timeIt(() =>
        runRescan(
          {
            targets: {
              buckets: bucketsToRescan(applied.result).map((b) => ({
                ...b,
                events: ['s3scan fix --apply'],
              })),
              keys: [],
            },
            config: defaultConfig(),
            scanId: `rescan-${lanes}`,
            scanTime: new Date('2026-12-07T06:10:00Z'),
            accountId: ACCOUNT,
          },
          { clients: clients(), store },
        ),
      );
      const proved = proveFixes(
        applied.result,
        rescanned.result.scan?.scanId ?? '',
        rescanned.result.scan?.findings ?? [],
      );
      if (plan.fixes.length !== buckets) throw new Error(`planned ${plan.fixes.length} fixes`);
      runs[name] = {
        plan: planned.ms,
        apply: applied.ms,
        rescan: rescanned.ms,
        proven: proved.results.filter((r) => r.verdict?.status === 'PASS').length,
      };
      if (lanes === concurrency) callsPerBucket = applyCalls / buckets;
    } finally {
      account.restore();
    }
  }
  const ours = runs.s3scan!;
  const naive = runs['one at a time']!;
  const total = (r: typeof ours) => r.plan + r.apply + r.rescan;
  // Physical limits: each fix is 3 calls in a row (re-read, write, read-back), `concurrency`
  // buckets at once; the rescan is 5 reads a bucket at the scan's concurrency, plus its listing.
  const scanConcurrency = defaultConfig().scan.concurrency;
  const applyLimit = (buckets * 3 * latencyMs) / concurrency;
  const rescanLimit = (buckets * 5 * latencyMs) / scanConcurrency + 2 * latencyMs;
  report({
    bench: 'remediation',
    metric: 'calls-per-fixed-bucket',
    value: Number(callsPerBucket.toFixed(2)),
    unit: 'calls',
    note: `GetBucketPolicy (re-read: refuse a change since the scan), PutBucketPolicy, GetBucketPolicy (read-back) for each of ${buckets} buckets (target 3); the proving rescan adds the scanner's 5 reads a bucket`,
  });
  report({
    bench: 'remediation',
    metric: 'plan-apply-rescan-ms',
    value: Math.round(total(ours)),
    unit: 'ms',
    note: `${buckets} buckets at ${latencyMs} ms a call, ${ours.proven}/${buckets} proven PASS: plan ${ours.plan.toFixed(0)} ms, apply ${ours.apply.toFixed(0)} ms (limit 3 x ${latencyMs} ms x ${buckets} / ${concurrency} = ${applyLimit.toFixed(0)} ms, ${(ours.apply / applyLimit).toFixed(2)}x), rescan ${ours.rescan.toFixed(0)} ms (limit 5 x ${latencyMs} ms x ${buckets} / ${scanConcurrency} + listing = ${rescanLimit.toFixed(0)} ms, ${(ours.rescan / rescanLimit).toFixed(2)}x); one bucket at a time: apply ${naive.apply.toFixed(0)} ms, ${(total(naive) / total(ours)).toFixed(1)}x the whole`,
  });
  report({
    bench: 'remediation',
    metric: 'apply-vs-limit',
    value: Number((ours.apply / applyLimit).toFixed(2)),
    unit: 'x',
    note: `apply wall time over calls x latency / concurrency (${concurrency} buckets at once, one write at a time per bucket); the naive way (one bucket at a time) is ${(naive.apply / applyLimit).toFixed(1)}x the limit`,
  });
}
