import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../lib/config/config.js';
import type { Finding } from '../../lib/engine/types.js';
import { ScanFilesTaken } from '../../lib/errors.js';
import type { ScanEvidence } from '../../lib/evidence/types.js';
import { S3ReportStore } from '../../lib/report-store/s3.js';
import { evaluateScan } from '../../lib/scan/evaluate-scan.js';
import { judgeAndStore } from '../../lib/scan/run-scan.js';
import { isolatedHome, startCli, waitFor } from '../helpers/cli.js';
import { bucketEvidence, scanEvidence } from '../helpers/evidence.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';

/** A scan's summary and findings as the CLI would judge them. */
function judged(evidence: ScanEvidence) {
  const { findings, summary } = evaluateScan(evidence);
  return { summary: { schemaVersion: '1', source: 'scan' as const, ...summary }, findings };
}

/**
 * `--store s3://bucket/prefix` with the real CLI against moto: a scan writes the S3 store's
 * layout (index.json last, the findings index), and report, diff and the dashboard read it
 * back, as a team sharing the stack's report bucket would.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}
const BUILD = fileURLToPath(new URL('./moto/build-account.py', import.meta.url));
const STORE = 's3://s3scan-team-store/reports/prod';

describe.skipIf(!availability.ok)('an S3 report store (--store s3://…) in moto', () => {
  let moto: MotoServer;
  let env: NodeJS.ProcessEnv;
  let s3: S3Client;
  const cli = async (args: string[]) => {
    const home = isolatedHome();
    const run = startCli(args, env, home);
    const done = await run.done;
    return { code: done.code, stdout: run.stdout(), stderr: run.stderr() };
  };

  beforeAll(async () => {
    moto = await startMoto();
    execFileSync('python3', [BUILD, moto.endpoint], { encoding: 'utf8' });
    env = {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
    };
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 's3scan-team-store' }));
  }, 120_000);
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  it('scans into the S3 store, and report, diff and the dashboard read it back', async () => {
    // Act: two scans into the store, then every reader.
    const first = await cli(['scan', '--store', STORE, '--format', 'json', '--no-progress']);
    const second = await cli(['scan', '--store', STORE, '--format', 'json', '--no-progress']);
    const report = await cli(['report', '--store', STORE, '--format', 'json']);
    const diff = await cli(['diff', '--store', STORE, '--format', 'json']);
    const keys = (
      await s3.send(
        new ListObjectsV2Command({ Bucket: 's3scan-team-store', Prefix: 'reports/prod/' }),
      )
    ).Contents?.map((o) => o.Key ?? '');

    // Assess
    expect([first.code, second.code, report.code, diff.code], first.stderr + report.stderr).toEqual(
      [0, 0, 0, 0],
    );
    const scanned = JSON.parse(second.stdout) as {
      summary: { scanId: string };
      findings: Finding[];
    };
    const reported = JSON.parse(report.stdout) as {
      summary: { scanId: string };
      findings: Finding[];
    };
    expect(reported.summary.scanId).toBe(scanned.summary.scanId);
    expect(reported.findings).toEqual(scanned.findings);
    expect(keys).toEqual(
      expect.arrayContaining([
        'reports/prod/index.json',
        `reports/prod/scans/${scanned.summary.scanId}/summary.json`,
        `reports/prod/scans/${scanned.summary.scanId}/findings.ndjson.gz`,
        `reports/prod/scans/${scanned.summary.scanId}/view/index.json`,
        `reports/prod/scans/${scanned.summary.scanId}/view/pages.bin`,
      ]),
    );
    expect(JSON.parse(diff.stdout)).toMatchObject({ to: { scanId: scanned.summary.scanId } });

    // The dashboard over the S3 store: the same counts, pages read by byte range from moto.
    const home = isolatedHome();
    const dashboard = startCli(['dashboard', '--store', STORE], env, home);
    try {
      await waitFor(
        () => /Dashboard: (\S+)/.test(dashboard.stdout()),
        20_000,
        'the dashboard line',
      );
      const url = new URL(/Dashboard: (\S+)/.exec(dashboard.stdout())?.[1] ?? '');
      const token = url.searchParams.get('token') ?? '';
      const get = async (path: string) =>
        (
          await fetch(`${url.origin}${path}`, { headers: { authorization: `Bearer ${token}` } })
        ).json();
      const overview = (await get('/api/scans/latest/overview')) as {
        scanId: string;
        byStatus: { FAIL: number };
      };
      const page = (await get('/api/scans/latest/findings?status=FAIL&limit=500')) as {
        total: number;
      };
      expect(overview.scanId).toBe(scanned.summary.scanId);
      expect(page.total).toBe(scanned.findings.filter((f) => f.status === 'FAIL').length);
      expect(overview.byStatus.FAIL).toBe(page.total);
    } finally {
      dashboard.child.kill('SIGTERM');
    }
  }, 180_000);

  it('never replaces a file an unfinished write left: moto answers 412, and the scan is stored under a new id', async () => {
    // Prepare: the first attempt of a scan stopped after its findings, before index.json.
    const store = new S3ReportStore({ s3, bucket: 's3scan-team-store', prefix: 'reports/retry' });
    const evidence = { ...scanEvidence([bucketEvidence('alpha')]), scanId: 'scan-left' };
    const leftover = 'reports/retry/scans/scan-left/findings.ndjson.gz';
    await s3.send(
      new PutObjectCommand({ Bucket: 's3scan-team-store', Key: leftover, Body: 'first attempt' }),
    );

    // Act
    const direct = await store.writeScan({ ...judged(evidence), evidence }).then(
      () => undefined,
      (error: unknown) => error as ScanFilesTaken,
    );
    const stored = await judgeAndStore(evidence, defaultConfig(), { store, source: 'scan' });

    // Assess
    expect(direct).toBeInstanceOf(ScanFilesTaken);
    const refusal = (direct as ScanFilesTaken).cause as { $metadata: { httpStatusCode: number } };
    expect(refusal.$metadata.httpStatusCode).toBe(412);
    expect(stored.summary.retryOf).toBe('scan-left');
    expect((await store.readIndex())?.latest).toBe(stored.summary.scanId);
    const back = await s3.send(
      new GetObjectCommand({ Bucket: 's3scan-team-store', Key: leftover }),
    );
    expect(await back.Body?.transformToString()).toBe('first attempt');
  });

  it('refuses a store URL that names no bucket S3 would accept', async () => {
    const bad = await cli(['report', '--store', 's3://Bad_Bucket/x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--store s3:\/\/Bad_Bucket\/x: "Bad_Bucket" is not an S3 bucket name/,
    );
  });
});
