import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enumerate } from '../../../functions/enumerate.js';
import { finalize } from '../../../functions/finalize.js';
import { scanBucket } from '../../../functions/scan-bucket.js';
import type { AlertSink } from '../../../lib/alerts/sink.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { configFromText, configHash, defaultConfig } from '../../../lib/config/config.js';
import { ConfigError, ScanFilesTaken } from '../../../lib/errors.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import type { ScanRecord } from '../../../lib/report-store/types.js';
import { MemoryWorkArea } from '../../../lib/report-store/work-area.js';
import { mockAccount, sseKms } from '../../helpers/mocked-account.js';

const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
let heads = 0;
let abortAt = Number.POSITIVE_INFINITY;
let controller = new AbortController();

const areas = new Map<string, MemoryWorkArea>();
const work = (scanId: string) => {
  if (!areas.has(scanId)) areas.set(scanId, new MemoryWorkArea());
  return areas.get(scanId)!;
};
const config = async () => defaultConfig();
const clients = () =>
  new AwsClients(
    { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
    'us-east-1',
  );

describe('Distributed scan: enumerate, scan-bucket (looping on checkpoints), finalize', () => {
  beforeEach(() => {
    areas.clear();
    mockAccount(
      { s3, sts, kms },
      {
        session: 'sfn',
        buckets: ['alpha', 'beta', 'broken'].map((name) => ({ name, encryption: sseKms(KEY) })),
        keys: [{ arn: KEY }],
      },
    );
    s3.on(ListObjectsV2Command).callsFake((input: { ContinuationToken?: string }) => {
      const start = Number(input.ContinuationToken ?? 0);
      const keys = Array.from({ length: 2500 }, (_, i) => `k${String(i).padStart(5, '0')}`).slice(
        start,
        start + 1000,
      );
      const next = start + keys.length;
      return {
        Contents: keys.map((Key) => ({ Key, Size: 1 })),
        IsTruncated: next < 2500,
        ...(next < 2500 ? { NextContinuationToken: String(next) } : {}),
      };
    });
    s3.on(HeadObjectCommand).callsFake(() => {
      heads += 1;
      if (heads === abortAt) controller.abort(new Error('Lambda timeout approaching'));
      return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY, BucketKeyEnabled: true };
    });
  });
  afterEach(() => {
    s3.reset();
    kms.reset();
    sts.reset();
  });

  it('runs a whole scan through the three functions, resuming a bucket that hit the timeout, and reports a failed bucket as ERROR', async () => {
    // Act 1: enumerate writes the plan and the map's items.
    const planned = await enumerate(
      { objects: 'full', scanId: 'sfn-1' },
      { clients, work, now: () => new Date('2026-11-01T06:00:00Z'), config },
    );
    expect(planned).toEqual({ scanId: 'sfn-1', itemsKey: 'items.json', buckets: 3 });
    const items = (await work('sfn-1').get<{ bucket: string }[]>('items.json')) ?? [];

    // Act 2: the map runs alpha (timing out once), beta; broken fails for good.
    heads = 0;
    abortAt = 1200;
    controller = new AbortController();
    const deps = { clients, work, concurrency: 8 };
    const first = await scanBucket(items[0], deps, controller.signal);
    const firstChunks = await work('sfn-1').list('objects/');
    // A retried invocation (its checkpoint write lost) sweeps the same pages again: it must
    // replace its chunk of the per-object CSV, not add the rows twice.
    work('sfn-1').files.delete('checkpoints/alpha.json');
    heads = 0;
    controller = new AbortController();
    await scanBucket(items[0], deps, controller.signal);
    abortAt = Number.POSITIVE_INFINITY;
    const second = await scanBucket(first.item, deps);
    const beta = await scanBucket(items[1], deps);

    // Act 3: finalize publishes.
    const root = mkdtempSync(join(tmpdir(), 's3scan-sfn-'));
    const published = await finalize(
      { scanId: 'sfn-1', extra: 'state machine context' },
      { clients, work, store: () => new LocalReportStore(root) },
    );

    // Assess
    expect(first).toEqual({
      done: false,
      item: { scanId: 'sfn-1', bucket: 'alpha', region: 'us-east-1' },
    });
    expect(second.done).toBe(true);
    expect(beta.done).toBe(true);
    expect(published.failedBuckets).toEqual(['broken']);
    const store = new LocalReportStore(root);
    const { findings } = await store.readScan('sfn-1');
    const alpha = findings.find(
      (f) => f.resource.name === 'alpha' && f.ruleId === 's3-objects-unencrypted',
    );
    expect(alpha?.message).toMatch(/2500 objects/);
    const broken = Object.fromEntries(
      findings.filter((f) => f.resource.name === 'broken').map((f) => [f.ruleId, f.status]),
    );
    expect(broken).toMatchObject({
      's3-bucket-tls-enforced': 'ERROR',
      's3-bucket-default-encryption-kms': 'ERROR',
      's3-bucket-sse-c-blocked': 'ERROR',
    });
    expect(Object.values(broken)).not.toContain('FAIL');
    expect(kms).toHaveReceivedCommandTimes(DescribeKeyCommand, 1);
    // The per-object CSV of alpha: one chunk per invocation, every object exactly once.
    expect(firstChunks).toEqual(['objects/111122223333/alpha/000000000.csv.gz']);
    const csv = gunzipSync(
      readFileSync(join(root, 'scans', 'sfn-1', 'objects', '111122223333', 'alpha.csv.gz')),
    )
      .toString('utf8')
      .trimEnd()
      .split('\r\n');
    expect(csv[0]).toMatch(/^key,versionId,isLatest,size,/);
    const keys = csv.slice(1).map((line) => line.split(',')[0]);
    expect(keys).toHaveLength(2500);
    expect(new Set(keys).size).toBe(2500);
    expect(csv.filter((line) => line.startsWith('key,'))).toHaveLength(1);
    expect((await store.readIndex())?.latest).toBe('sfn-1');
  });

  describe('the schedule obeys objectAccess: its input names no mode', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });
    const schedule = async (scanId: string, loaded = defaultConfig()) => {
      await enumerate(
        { scanId },
        { clients, work, now: () => new Date('2026-11-01T06:00:00Z'), config: async () => loaded },
      );
      const items = (await work(scanId).get<unknown[]>('items.json')) ?? [];
      for (const item of items) await scanBucket(item, { clients, work, concurrency: 4 });
      const root = mkdtempSync(join(tmpdir(), 's3scan-sfn-'));
      await finalize({ scanId }, { clients, work, store: () => new LocalReportStore(root) });
      return new LocalReportStore(root).readScan(scanId);
    };

    it('objectAccess none: reads no object and reports no object ERROR', async () => {
      // Prepare: the environment `osls package --param objectAccess=none` gives enumerate.
      process.env.OBJECT_ACCESS = 'none';
      process.env.DEFAULT_OBJECT_MODE = 'none';

      // Act
      const { findings } = await schedule('sfn-none');

      // Assess
      expect(s3).not.toHaveReceivedCommand(ListObjectsV2Command);
      expect(s3).not.toHaveReceivedCommand(HeadObjectCommand);
      const objectRules = findings.filter((f) => f.ruleId.startsWith('s3-objects-'));
      expect(objectRules.length).toBeGreaterThan(0);
      expect(objectRules.filter((f) => f.status === 'ERROR')).toEqual([]);
      expect(findings.filter((f) => f.status === 'ERROR').map((f) => f.resource.name)).toEqual(
        expect.not.arrayContaining(['alpha', 'beta']),
      );
    });

    it('objectAccess none: a mode that reads objects is refused before any read, naming where it came from', async () => {
      // Prepare
      process.env.OBJECT_ACCESS = 'none';
      process.env.DEFAULT_OBJECT_MODE = 'none';
      const asksFull = configFromText('schedule: { objects: full }\n', {
        json: false,
        describe: 'test config',
        provenance: { origin: 'default' },
      });
      const deps = { clients, work, now: () => new Date(), config };

      // Act / Assess
      await expect(enumerate({ objects: 'auto' }, deps)).rejects.toThrow(
        /the input asks for objects auto, but this stack was deployed with objectAccess none/,
      );
      await expect(enumerate({}, { ...deps, config: async () => asksFull })).rejects.toThrow(
        /the config's schedule\.objects asks for objects full/,
      );
      expect(sts).not.toHaveReceivedCommand(GetCallerIdentityCommand);
    });

    it('objectAccess inventory allows none and inventory only; all lets the config ask for noncurrent versions', async () => {
      // Prepare
      process.env.OBJECT_ACCESS = 'inventory';
      process.env.DEFAULT_OBJECT_MODE = 'inventory';
      const deps = { clients, work, now: () => new Date('2026-11-01T06:00:00Z'), config };
      const versions = configFromText('schedule: { objects: full, versions: true }\n', {
        json: false,
        describe: 'test config',
        provenance: { origin: 'default' },
      });

      // Act
      const sample = enumerate({ objects: 'sample' }, deps);
      await enumerate({ scanId: 'sfn-inv' }, deps);
      process.env.OBJECT_ACCESS = 'all';
      process.env.DEFAULT_OBJECT_MODE = 'auto';
      await enumerate({ scanId: 'sfn-ver' }, { ...deps, config: async () => versions });

      // Assess
      await expect(sample).rejects.toThrow(/modes none, inventory only/);
      const plan = async (id: string) => JSON.stringify(await work(id).get<unknown>('plan.json'));
      expect(await plan('sfn-inv')).toMatch(/"mode":"inventory"/);
      expect(await plan('sfn-ver')).toMatch(/"mode":"full","versions":true/);
    });
  });

  it('rejects invalid payloads by field name before any AWS call', async () => {
    await expect(
      enumerate({ objects: 'everything' }, { clients, work, now: () => new Date(), config }),
    ).rejects.toThrow(/objects: must be one of/);
    await expect(
      scanBucket({ scanId: 'x', bucket: 'b' }, { clients, work, concurrency: 1 }),
    ).rejects.toThrow(ConfigError);
    await expect(
      scanBucket({ scanId: 'x', bucket: 'b' }, { clients, work, concurrency: 1 }),
    ).rejects.toThrow(/region: is required/);
    expect(sts).not.toHaveReceivedCommand(GetCallerIdentityCommand);
  });

  it('applies the config enumerate loaded in every later step, and records it in the summary', async () => {
    // Prepare
    const text =
      'rules:\n  s3-bucket-key-enabled: { enabled: false }\nsuppressions:\n  - { rule: s3-bucket-tls-enforced, resource: beta, reason: private network only, expires: 2099-01-01 }\n';
    const loaded = configFromText(text, {
      json: false,
      describe: 'test config',
      provenance: { origin: 'ssm', location: 'ssm:/s3scan/config', version: '7' },
    });
    const root = mkdtempSync(join(tmpdir(), 's3scan-sfn-'));

    // Act
    await enumerate(
      { scanId: 'sfn-config', buckets: ['alpha', 'beta'] },
      { clients, work, now: () => new Date('2026-11-01T06:00:00Z'), config: async () => loaded },
    );
    for (const item of (await work('sfn-config').get<unknown[]>('items.json')) ?? [])
      await scanBucket(item, { clients, work, concurrency: 4 });
    const published = await finalize(
      { scanId: 'sfn-config' },
      { clients, work, store: () => new LocalReportStore(root) },
    );

    // Assess
    expect(published.scanId).toBe('sfn-config');
    const { summary, findings } = await new LocalReportStore(root).readScan('sfn-config');
    expect(summary.config).toEqual({
      origin: 'ssm',
      location: 'ssm:/s3scan/config',
      version: '7',
      sha256: configHash(text),
    });
    expect(summary.disabledRules).toEqual([
      's3-bucket-key-enabled',
      's3-bucket-policy-requires-encryption',
    ]);
    // The scope the scan was asked for, so drift never calls "broken" gone.
    expect(summary.scope).toEqual({ buckets: ['alpha', 'beta'], regions: [] });
    expect(summary.buckets).toBe(2);
    expect(
      findings.find((f) => f.resource.name === 'beta' && f.ruleId === 's3-bucket-tls-enforced')
        ?.suppression,
    ).toMatchObject({ active: true, reason: 'private network only' });
  });

  /**
   * A scan of bucket alpha enumerated and scanned up to finalize, under a config that alerts
   * through one EventBridge-like sink recording what it was sent.
   */
  async function plannedWithAlerts(scanId: string) {
    const loaded = configFromText('alerts:\n  eventBridge: {}\n', {
      json: false,
      describe: 'test config',
      provenance: { origin: 's3', location: 's3://reports/config/s3scan.config.yml' },
    });
    const sent: string[] = [];
    const sink: AlertSink<string> = {
      name: 'eventbridge',
      idempotent: false,
      plan: (d) => [{ id: 'b0', entries: [{ id: 'scan-completed', payload: d.drift.to.scanId }] }],
      preview: () => '',
      deliver: async (batch) => {
        sent.push(batch.entries[0]!.payload);
        return { delivered: ['scan-completed'], failed: [] };
      },
    };
    await enumerate(
      { scanId, buckets: ['alpha'] },
      { clients, work, now: () => new Date('2026-11-01T06:00:00Z'), config: async () => loaded },
    );
    for (const item of (await work(scanId).get<unknown[]>('items.json')) ?? [])
      await scanBucket(item, { clients, work, concurrency: 4 });
    return { sent, alerts: { sinks: async () => [sink] } };
  }

  it('finalize sends the alerts of the plan’s config after publishing; a retried finalize reads the scan back and sends nothing twice', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 's3scan-sfn-'));
    const { sent, alerts } = await plannedWithAlerts('sfn-alerts');

    // Act
    const first = await finalize(
      { scanId: 'sfn-alerts' },
      { clients, work, store: () => new LocalReportStore(root), alerts },
    );
    const retried = await finalize(
      { scanId: 'sfn-alerts' },
      { clients, work, store: () => new LocalReportStore(root), alerts },
    );

    // Assess
    expect(first.alerts).toMatchObject({ status: 'sent', sinks: [{ sent: 1 }] });
    expect(retried.alerts).toMatchObject({ status: 'sent', sinks: [{ sent: 0, alreadySent: 1 }] });
    expect(retried.byStatus).toEqual(first.byStatus);
    expect(sent).toEqual(['sfn-alerts']);
  });

  it('finalize stores under a new id when an earlier attempt left files under the plan’s id, and its retry finds that scan', async () => {
    // Prepare: an S3 store refuses to replace the files a crashed first attempt left.
    const root = mkdtempSync(join(tmpdir(), 's3scan-sfn-'));
    class LeftoverStore extends LocalReportStore {
      public override async writeScan(record: ScanRecord): Promise<string> {
        if (record.summary.scanId === 'sfn-leftover')
          throw new ScanFilesTaken('sfn-leftover', 'scans/sfn-leftover/findings.ndjson.gz');
        return super.writeScan(record);
      }
    }
    const { sent, alerts } = await plannedWithAlerts('sfn-leftover');

    // Act
    const first = await finalize(
      { scanId: 'sfn-leftover' },
      { clients, work, store: () => new LeftoverStore(root), alerts },
    );
    const retried = await finalize(
      { scanId: 'sfn-leftover' },
      { clients, work, store: () => new LeftoverStore(root), alerts },
    );

    // Assess
    expect(first.scanId).not.toBe('sfn-leftover');
    const index = await new LocalReportStore(root).readIndex();
    expect(index?.scans).toHaveLength(1);
    expect(index?.scans[0]).toMatchObject({ scanId: first.scanId, retryOf: 'sfn-leftover' });
    expect(retried.scanId).toBe(first.scanId);
    expect(retried.alerts).toMatchObject({ status: 'sent', sinks: [{ sent: 0, alreadySent: 1 }] });
    expect(sent).toEqual([first.scanId]);
  });

  it('plans nothing when the config is invalid: enumerate fails before listing the account', async () => {
    // Act
    const attempt = enumerate(
      { scanId: 'sfn-bad' },
      {
        clients,
        work,
        now: () => new Date(),
        config: async () => {
          throw new ConfigError(
            'the scanner config ssm:/s3scan/config is invalid:\n  tls.minVersion: must be one of 1.2, 1.3',
          );
        },
      },
    );

    // Assess
    await expect(attempt).rejects.toThrow(/tls.minVersion/);
    expect(sts).not.toHaveReceivedCommand(GetCallerIdentityCommand);
    expect(await work('sfn-bad').get('plan.json')).toBeUndefined();
  });
});
