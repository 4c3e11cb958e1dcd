import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  GetBucketEncryptionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertAfterPublish } from '../../../functions/common/alerts.js';
import {
  parseScanInput,
  type ScanDependencies,
  type ScanOutput,
  scan,
} from '../../../functions/scan.js';
import type { AlertSink } from '../../../lib/alerts/sink.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { configFromDocument, defaultConfig } from '../../../lib/config/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { MemoryWorkArea } from '../../../lib/report-store/work-area.js';
import { mockAccount } from '../../helpers/mocked-account.js';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);

const deps: ScanDependencies = {
  clients: () =>
    new AwsClients(
      { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
      'us-east-1',
    ),
  now: () => new Date('2026-11-01T06:00:00Z'),
  concurrency: 4,
  config: async () => defaultConfig(),
};

/** The answer of an invocation that finished (not a handover). */
async function completed(answer: Promise<unknown>): Promise<ScanOutput> {
  const output = await answer;
  if (!output || typeof output !== 'object' || !('summary' in output))
    throw new Error(`expected a finished scan, got ${JSON.stringify(output)}`);
  return output as ScanOutput;
}

describe('Function: scan', () => {
  beforeEach(() => {
    mockAccount(
      { s3, sts },
      { session: 'fn', buckets: [{ name: 'b1' }, { name: 'b2', region: 'eu-west-1' }] },
    );
  });
  afterEach(() => {
    s3.reset();
    sts.reset();
  });

  it('scans the buckets an invoke names and answers the findings that need attention', async () => {
    // Act
    const output = await completed(scan({ buckets: ['b1'], scanId: 'on-demand-1' }, deps));

    // Assess
    expect(output.scanId).toBe('on-demand-1');
    expect(output.summary.buckets).toBe(1);
    expect(output.findings.every((f) => f.status === 'FAIL' || f.status === 'ERROR')).toBe(true);
    expect(output.findings.map((f) => f.ruleId)).toContain('s3-bucket-tls-enforced');
    expect(s3).not.toHaveReceivedCommandWith(GetBucketEncryptionCommand, { Bucket: 'b2' });
  });

  it('stores the scan when the function has a report store, and says where', async () => {
    // Prepare
    const written: string[] = [];
    const store = {
      writeScan: async (record: { summary: { scanId: string } }) => {
        written.push(record.summary.scanId);
        return `s3://reports/scans/${record.summary.scanId}`;
      },
      readIndex: async () => undefined,
      readScan: async () => {
        throw new Error('not used');
      },
      describe: () => 's3://reports',
      alertLedger: () => {
        throw new Error('not used');
      },
      readSummary: async () => {
        throw new Error('not used');
      },
      findingLines: () => {
        throw new Error('not used');
      },
      readScanFile: async () => {
        throw new Error('not used');
      },
      readScanFileRange: async () => {
        throw new Error('not used');
      },
      fixRecords: () => {
        throw new Error('not used');
      },
    };

    // Act
    const output = await completed(scan({ scanId: 'scheduled-1' }, { ...deps, store }));

    // Assess
    expect(written).toEqual(['scheduled-1']);
    expect(output.report).toBe('s3://reports/scans/scheduled-1');
  });

  it('accepts an empty payload as "the whole account"', async () => {
    expect((await completed(scan(undefined, deps))).summary.buckets).toBe(2);
  });

  it.each([
    [{ buckets: 'b1' }, /buckets: must be array/],
    [{ regions: ['Mars'] }, /regions\[0\]: must match pattern/],
    [{ objects: 'everything' }, /objects: must be one of "none", "sample"/],
    [{ resume: '../x' }, /resume: must match pattern/],
    [{ bucket: ['b1'] }, /bucket: is not a known field/],
    [{ scanId: '../../etc' }, /scanId: must match pattern/],
    ['scan everything', /\(top level\): must be object/],
  ])('rejects %j naming the field, before any AWS call', async (payload, message) => {
    // Act & Assess
    await expect(scan(payload, deps)).rejects.toThrow(ConfigError);
    await expect(scan(payload, deps)).rejects.toThrow(message);
    expect(sts).not.toHaveReceivedCommand(GetCallerIdentityCommand);
  });

  it('stops when the invocation is about to time out', async () => {
    // Prepare
    const controller = new AbortController();
    controller.abort(new Error('Lambda timeout approaching'));

    // Act & Assess: with no report bucket there is nowhere to keep the checkpoint.
    await expect(scan({}, deps, controller.signal)).rejects.toThrow(
      /interrupted \(Lambda timeout approaching: stopped before the account was listed\) and there is no report bucket/,
    );
  });

  it('hands over through a checkpoint before the timeout, and the next invocation finishes the scan', async () => {
    // Prepare: b1 holds 2,500 objects; HEAD number 700 brings the timeout near.
    const areas = new Map<string, MemoryWorkArea>();
    const work = (id: string) => {
      if (!areas.has(id)) areas.set(id, new MemoryWorkArea());
      return areas.get(id)!;
    };
    const keys = Array.from({ length: 2500 }, (_, i) => `k${String(i).padStart(5, '0')}`);
    s3.on(ListObjectsV2Command).callsFake((input: { ContinuationToken?: string }) => {
      const start = Number(input.ContinuationToken ?? 0);
      const page = keys.slice(start, start + 1000);
      const next = start + page.length;
      return {
        Contents: page.map((Key) => ({ Key, Size: 1 })),
        IsTruncated: next < keys.length,
        ...(next < keys.length ? { NextContinuationToken: String(next) } : {}),
      };
    });
    const controller = new AbortController();
    let heads = 0;
    s3.on(HeadObjectCommand).callsFake(() => {
      heads += 1;
      if (heads === 700) controller.abort(new Error('Lambda timeout approaching'));
      return { ServerSideEncryption: 'AES256' };
    });

    // Act
    const first = await scan(
      { buckets: ['b1'], objects: 'full', scanId: 'long-1' },
      { ...deps, work },
      controller.signal,
    );
    const root = mkdtempSync(join(tmpdir(), 's3scan-fn-'));
    const store = new LocalReportStore(root);
    const second = await completed(
      scan((first as { next: unknown }).next, { ...deps, work, store }),
    );

    // Assess
    expect(first).toMatchObject({
      scanId: 'long-1',
      checkpointed: true,
      next: { resume: 'long-1' },
    });
    expect(second.scanId).toBe('long-1');
    expect(second.summary.buckets).toBe(1);
    // Every one of the 2,500 objects was classified across the two invocations.
    expect(second.summary.byRule['s3-objects-unencrypted']).toMatchObject({ PASS: 1, ERROR: 0 });
    expect(second.collection.s3Calls).toBeGreaterThan(2500);
    // The per-object CSV lands in the report store with each object once.
    const rows = gunzipSync(
      readFileSync(join(root, 'scans', 'long-1', 'objects', '111122223333', 'b1.csv.gz')),
    )
      .toString('utf8')
      .trimEnd()
      .split('\r\n');
    expect(rows).toHaveLength(2501);
    expect(new Set(rows.slice(1).map((row) => row.split(',')[0])).size).toBe(2500);
  });

  it('refuses to resume a scan that left no checkpoint', async () => {
    await expect(
      scan({ resume: 'never-started' }, { ...deps, work: () => new MemoryWorkArea() }),
    ).rejects.toThrow(/resume: no checkpoint for scan never-started/);
  });

  it('parses a valid payload unchanged', () => {
    expect(parseScanInput({ buckets: ['b1'], regions: ['eu-west-1'], objects: 'none' })).toEqual({
      buckets: ['b1'],
      regions: ['eu-west-1'],
      objects: 'none',
    });
  });
});

describe('Function: scan sends alerts after the report is published', () => {
  beforeEach(() => {
    mockAccount({ s3, sts }, { session: 'fn', buckets: [{ name: 'b1' }] });
  });
  afterEach(() => {
    s3.reset();
    sts.reset();
  });

  it('publishes index.json first, then sends through the ledger; a retried invoke sends nothing twice', async () => {
    // Prepare
    const store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-fn-alerts-')));
    const config = configFromDocument({
      alerts: { sns: { topicArn: 'arn:aws:sns:us-east-1:111122223333:t' } },
    });
    const seenIndex: boolean[] = [];
    const sent: string[] = [];
    const sink: AlertSink<string> = {
      name: 'sns',
      idempotent: false,
      plan: (d) => [{ id: 'digest', entries: [{ id: 'digest', payload: d.drift.to.scanId }] }],
      preview: () => '',
      deliver: async (batch) => {
        seenIndex.push((await store.readIndex())?.latest === batch.entries[0]?.payload);
        sent.push(batch.entries[0]!.payload);
        return { delivered: ['digest'], failed: [] };
      },
    };
    const withAlerts: ScanDependencies = {
      ...deps,
      store,
      config: async () => config,
      alerts: { sinks: async () => [sink] },
    };

    // Act
    const output = await completed(scan({ scanId: 'alerted-1' }, withAlerts));
    const again = await alertAfterPublish(store, 'alerted-1', config, {
      sinks: async () => [sink],
    });

    // Assess
    expect(output.alerts).toEqual({
      status: 'sent',
      sinks: [{ sink: 'sns', status: 'sent', sent: 1, alreadySent: 0, failed: 0 }],
    });
    expect(seenIndex).toEqual([true]);
    expect(sent).toEqual(['alerted-1']);
    expect(again.sinks?.[0]).toMatchObject({ sent: 0, alreadySent: 1 });
  });

  it('a sink that cannot be built never fails the invocation: the answer says why', async () => {
    // Prepare
    const store = new LocalReportStore(mkdtempSync(join(tmpdir(), 's3scan-fn-alerts-')));
    const config = configFromDocument({ alerts: { slack: {} } });

    // Act
    const output = await completed(
      scan(
        { scanId: 'alerted-2' },
        {
          ...deps,
          store,
          config: async () => config,
          alerts: {
            sinks: async () => {
              throw new ConfigError(
                'alerts.slack is configured but S3SCAN_SLACK_WEBHOOK_URL is not set',
              );
            },
          },
        },
      ),
    );

    // Assess
    expect(output.report).toContain('alerted-2');
    expect(output.alerts).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('S3SCAN_SLACK_WEBHOOK_URL'),
    });
  });
});
