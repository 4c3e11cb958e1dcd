import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../lib/engine/types.js';
import { isolatedHome, startCli } from '../helpers/cli.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';

/**
 * The real CLI against moto, an S3/KMS/STS that nobody here wrote, reached the way a user
 * reaches a custom endpoint (AWS_ENDPOINT_URL). The account is built with boto3.
 * Where moto differs from AWS (tooling.md 4g) the expectations say so.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}

const BUILD = fileURLToPath(new URL('./moto/build-account.py', import.meta.url));

describe.skipIf(!availability.ok)('s3scan against moto (independent S3, KMS and STS)', () => {
  let moto: MotoServer;
  let keys: Record<'good' | 'other' | 'disabled' | 'pending', string>;
  let findings: Finding[];
  let exitCode: number | null;
  let stderr: string;

  let versionFindings: Finding[];

  /** Runs `s3scan scan` against moto and returns the exit code, stderr and findings. */
  async function scan(extra: string[]) {
    const home = isolatedHome();
    const run = startCli(
      [
        'scan',
        '--objects',
        'full',
        '--store',
        `${home}/reports`,
        '--format',
        'json',
        '--no-progress',
        ...extra,
      ],
      {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
      },
      home,
    );
    const done = await run.done;
    return {
      code: done.code,
      stderr: run.stderr(),
      findings: done.code === 0 ? (JSON.parse(run.stdout()).findings as Finding[]) : [],
    };
  }

  beforeAll(async () => {
    moto = await startMoto();
    keys = JSON.parse(execFileSync('python3', [BUILD, moto.endpoint], { encoding: 'utf8' })).keys;
    const all = await scan([]);
    exitCode = all.code;
    stderr = all.stderr;
    findings = all.findings;
    // moto answers HEAD ?versionId=null with 400 (AWS accepts the literal "null" id), so
    // versions are swept only where versioning is on.
    versionFindings = (await scan(['--versions', '--bucket', 'moto-versions'])).findings;
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
  });

  const verdict = (bucket: string, ruleId: string) =>
    findings.find((f) => f.ruleId === ruleId && f.resource.arn === `arn:aws:s3:::${bucket}`);

  it('scans every bucket of the account through the configured endpoint', () => {
    // Assess
    expect(stderr).not.toMatch(/amazonaws\.com/);
    expect(exitCode).toBe(0);
    const buckets = new Set(
      findings.filter((f) => f.resource.type === 'AWS::S3::Bucket').map((f) => f.resource.arn),
    );
    expect(buckets.size).toBe(8);
    // Directory buckets were asked for in each region holding buckets: moto answers, and
    // what it answers is judged (never an ERROR for a listing that worked).
    const listings = findings.filter((f) => f.ruleId === 's3-account-directory-buckets-listed');
    expect(listings.length).toBe(2);
    for (const listing of listings) expect(listing.status, listing.message).not.toBe('ERROR');
  });

  it('places eu-west-1 buckets by HeadBucket, since moto lists no BucketRegion', () => {
    expect(verdict('moto-kms-good', 's3-bucket-default-encryption-kms')?.resource.region).toBe(
      'eu-west-1',
    );
  });

  it('passes a KMS bucket whose objects all use its enabled default key', () => {
    for (const rule of [
      's3-objects-unencrypted',
      's3-objects-kms-key-unusable',
      's3-objects-kms-key-mismatch',
      's3-objects-weaker-than-default',
      's3-bucket-kms-key-usable',
    ]) {
      expect({ rule, status: verdict('moto-kms-good', rule)?.status }).toEqual({
        rule,
        status: 'PASS',
      });
    }
  });

  it('fails legacy plaintext objects', () => {
    expect(verdict('moto-legacy-plaintext', 's3-objects-unencrypted')).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/1 unencrypted objects .*old\/report\.csv/),
    });
  });

  it('fails objects under a disabled key and under a key pending deletion', () => {
    expect(verdict('moto-disabled-key', 's3-objects-kms-key-unusable')).toMatchObject({
      status: 'FAIL',
      message: expect.stringContaining(`${keys.disabled} is Disabled`),
    });
    expect(verdict('moto-disabled-key', 's3-bucket-kms-key-usable')?.status).toBe('FAIL');
    expect(verdict('moto-pending-deletion', 's3-objects-kms-key-unusable')).toMatchObject({
      status: 'FAIL',
      message: expect.stringContaining(`${keys.pending} is PendingDeletion`),
    });
  });

  it('fails objects under another key and objects weaker than the KMS default', () => {
    expect(verdict('moto-mixed', 's3-objects-kms-key-mismatch')).toMatchObject({
      status: 'FAIL',
      details: { others: [{ keyArn: keys.other, objects: 1 }] },
    });
    expect(verdict('moto-mixed', 's3-objects-weaker-than-default')).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/SSE-S3: 1/),
    });
  });

  it('never passes key rules on aws/s3 objects whose HEAD names no key (moto omits it)', () => {
    for (const rule of ['s3-objects-kms-key-unusable', 's3-objects-kms-key-mismatch']) {
      expect(verdict('moto-aws-managed', rule)).toMatchObject({
        status: 'ERROR',
        message: expect.stringMatching(/1 KMS-encrypted objects whose HEAD named no KMS key/),
      });
    }
    expect(verdict('moto-aws-managed', 's3-objects-unencrypted')?.status).toBe('PASS');
  });

  it('reports ERROR, never PASS, for objects whose HEADs were denied', () => {
    // moto ignores the policy's SecureTransport condition, so every HEAD answers 403.
    expect(verdict('moto-tls-locked', 's3-bucket-tls-enforced')?.status).toBe('PASS');
    for (const rule of [
      's3-objects-unencrypted',
      's3-objects-sse-c',
      's3-objects-kms-key-unusable',
      's3-objects-weaker-than-default',
    ]) {
      const finding = verdict('moto-tls-locked', rule);
      expect({ rule, status: finding?.status }).toEqual({ rule, status: 'ERROR' });
      expect(finding?.message).toMatch(/HEAD requests denied/);
    }
  });

  it('fails an old plaintext version kept behind a re-encrypted current one', () => {
    const versionVerdict = (ruleId: string) =>
      versionFindings.find(
        (f) => f.ruleId === ruleId && f.resource.arn === 'arn:aws:s3:::moto-versions',
      );
    expect(versionVerdict('s3-object-versions-unencrypted')).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/1 noncurrent versions/),
    });
    expect(versionVerdict('s3-objects-unencrypted')?.status).toBe('PASS');
  });
});
