import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ScanDependencies, type ScanOutput, scan } from '../../../functions/scan.js';
import { S3ConfigSource } from '../../../lib/aws/config-sources.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { configHash } from '../../../lib/config/config.js';
import { DeployedConfig } from '../../../lib/config/deployed.js';
import type { Finding } from '../../../lib/engine/types.js';
import { ConfigError } from '../../../lib/errors.js';
import { LocalReportStore } from '../../../lib/report-store/local.js';
import { runCliInProcess } from '../../helpers/cli-io.js';
import { MOCK_ACCOUNT, mockAccount, sseKms, sseS3 } from '../../helpers/mocked-account.js';

const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);

const ALLOWED_KEY = `arn:aws:kms:us-east-1:${MOCK_ACCOUNT}:key/11111111-1111-4111-8111-111111111111`;
const OTHER_KEY = `arn:aws:kms:us-east-1:${MOCK_ACCOUNT}:key/22222222-2222-4222-8222-222222222222`;
const REPORTS = 's3scan-reports-111122223333';
const CONFIG_KEY = 'config/s3scan.config.yml';

/** Two SSE-KMS buckets (one key allowed, one not) and an SSE-S3 bucket the config suppresses. */
const BUCKETS = [
  { name: 'alpha', encryption: sseKms(ALLOWED_KEY) },
  { name: 'beta', encryption: sseKms(OTHER_KEY) },
  { name: 'legacy-1', encryption: sseS3() },
];

/** A suppression, a severity override, an allowed key and a disabled rule. */
const CONFIG = `rules:
  s3-bucket-key-enabled: { enabled: false }
  s3-bucket-tls-enforced: { severity: critical }
kms:
  allowedKeyArns: ["${ALLOWED_KEY}"]
suppressions:
  - rule: s3-bucket-default-encryption-kms
    resource: legacy-*
    reason: SSE-S3 accepted until the migration
    expires: 2099-12-31
`;

const clients = () =>
  new AwsClients(
    { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
    'us-east-1',
  );

/** The config object in the report bucket, as ListObjectsV2 and GetObject answer it. */
function uploadConfig(text: string, etag: string) {
  s3.on(ListObjectsV2Command, { Bucket: REPORTS, Prefix: CONFIG_KEY }).resolves({
    IsTruncated: false,
    KeyCount: 1,
    Contents: [{ Key: CONFIG_KEY, ETag: etag, Size: text.length, LastModified: new Date() }],
  });
  s3.on(GetObjectCommand, { Bucket: REPORTS, Key: CONFIG_KEY }).callsFake(() => ({
    Body: Readable.from([Buffer.from(text)]),
    ETag: etag,
  }));
}

function lambdaDeps(store: LocalReportStore, deployed: DeployedConfig): ScanDependencies {
  return {
    clients,
    now: () => new Date('2026-12-01T06:00:00Z'),
    concurrency: 4,
    config: () => deployed.load(),
    store,
  };
}

function deployedConfig() {
  return new DeployedConfig(
    new S3ConfigSource({
      s3: new S3Client({ region: 'us-east-1' }),
      bucket: REPORTS,
      key: CONFIG_KEY,
    }),
  );
}

/** The stored findings file of the store's latest scan, as bytes. */
async function storedFindings(root: string): Promise<{ bytes: Buffer; findings: Finding[] }> {
  const store = new LocalReportStore(root);
  const index = await store.readIndex();
  const bytes = gunzipSync(readFileSync(join(root, 'scans', index!.latest, 'findings.ndjson.gz')));
  return { bytes, findings: (await store.readScan(index!.latest)).findings };
}

describe('One scan use case in every host', () => {
  beforeEach(() => {
    mockAccount(
      { s3, sts, kms },
      {
        buckets: BUCKETS,
        keys: [{ arn: ALLOWED_KEY }, { arn: OTHER_KEY }],
      },
    );
  });
  afterEach(() => {
    s3.reset();
    kms.reset();
    sts.reset();
  });

  it('gives byte-identical findings from the CLI and the scan Lambda, both applying the config', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 's3scan-hosts-'));
    const configFile = join(dir, 's3scan.config.yml');
    writeFileSync(configFile, CONFIG);
    uploadConfig(CONFIG, '"c1"');
    const cliStore = join(dir, 'cli');
    const lambdaStore = join(dir, 'lambda');

    // Act
    const { code } = await runCliInProcess([
      'scan',
      '--store',
      cliStore,
      '--config',
      configFile,
      '--no-progress',
      '--format',
      'json',
    ]);
    const output = (await scan(
      {},
      lambdaDeps(new LocalReportStore(lambdaStore), deployedConfig()),
    )) as ScanOutput;

    // Assess: the same bytes...
    expect(code).toBe(0);
    const fromCli = await storedFindings(cliStore);
    const fromLambda = await storedFindings(lambdaStore);
    expect(fromLambda.bytes.equals(fromCli.bytes)).toBe(true);
    // ...judged with the config, not the defaults.
    const findings = fromCli.findings;
    const of = (rule: string, bucket: string) =>
      findings.find((f) => f.ruleId === rule && f.resource.name === bucket);
    expect(findings.some((f) => f.ruleId === 's3-bucket-key-enabled')).toBe(false);
    expect(of('s3-bucket-tls-enforced', 'alpha')).toMatchObject({
      status: 'FAIL',
      severity: 'critical',
    });
    expect(of('s3-bucket-default-encryption-kms', 'legacy-1')).toMatchObject({
      status: 'FAIL',
      suppression: { active: true, reason: 'SSE-S3 accepted until the migration' },
    });
    expect(of('s3-bucket-kms-key-customer-managed', 'alpha')?.status).toBe('PASS');
    expect(of('s3-bucket-kms-key-customer-managed', 'beta')).toMatchObject({
      status: 'FAIL',
      message: expect.stringContaining('not in kms.allowedKeyArns'),
    });
    // Each summary says which config applied: the same text, so the same hash.
    const cliSummary = (
      await new LocalReportStore(cliStore).readScan(
        (await new LocalReportStore(cliStore).readIndex())!.latest,
      )
    ).summary;
    expect(cliSummary.config).toEqual({
      origin: 'file',
      location: configFile,
      sha256: configHash(CONFIG),
    });
    expect(output.summary.config).toEqual({
      origin: 's3',
      location: `s3://${REPORTS}/${CONFIG_KEY}`,
      version: '"c1"',
      sha256: configHash(CONFIG),
    });
    expect(output.summary.disabledRules).toEqual([
      's3-bucket-key-enabled',
      's3-bucket-policy-requires-encryption',
    ]);
    expect(output.summary.suppressed).toBe(1);
  });

  it('scans with the defaults, recorded as such, when the report bucket has no config', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: REPORTS, Prefix: CONFIG_KEY }).resolves({
      IsTruncated: false,
      KeyCount: 0,
    });
    const root = mkdtempSync(join(tmpdir(), 's3scan-hosts-'));

    // Act
    const output = (await scan(
      {},
      lambdaDeps(new LocalReportStore(root), deployedConfig()),
    )) as ScanOutput;

    // Assess
    expect(output.summary.config).toEqual({
      origin: 'default',
      location: `s3://${REPORTS}/${CONFIG_KEY}`,
    });
    // Only the rule of the other upload-encryption stance is off.
    expect(output.summary.disabledRules).toEqual(['s3-bucket-policy-requires-encryption']);
    expect(output.summary.byRule['s3-bucket-key-enabled']).toBeDefined();
    const subset = (await scan(
      { buckets: ['alpha'], regions: ['us-east-1'] },
      lambdaDeps(new LocalReportStore(root), deployedConfig()),
    )) as ScanOutput;
    expect(output.summary.scope).toEqual({ buckets: [], regions: [] });
    expect(subset.summary.scope).toEqual({ buckets: ['alpha'], regions: ['us-east-1'] });
    expect(output.summary.suppressed).toBe(0);
  });

  it('fails the scan on an invalid config, naming the field, before reading the account or publishing anything', async () => {
    // Prepare
    uploadConfig('kms:\n  allowedKeyArns: ["not-an-arn"]\n', '"bad"');
    const root = mkdtempSync(join(tmpdir(), 's3scan-hosts-'));
    const store = new LocalReportStore(root);

    // Act
    const attempt = scan({}, lambdaDeps(store, deployedConfig()));

    // Assess
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(scan({}, lambdaDeps(store, deployedConfig()))).rejects.toThrow(
      /the scanner config s3:\/\/s3scan-reports-111122223333\/config\/s3scan.config.yml is invalid:\n {2}kms.allowedKeyArns\[0\]: must match pattern/,
    );
    expect(s3.commandCalls(ListBucketsCommand)).toHaveLength(0);
    expect(await store.readIndex()).toBeUndefined();
  });

  it('applies a changed config on the next scan of the same container', async () => {
    // Prepare: one container (one DeployedConfig), the config edited between two scans.
    const deployed = deployedConfig();
    const root = mkdtempSync(join(tmpdir(), 's3scan-hosts-'));
    uploadConfig(CONFIG, '"c1"');
    const first = (await scan({}, lambdaDeps(new LocalReportStore(root), deployed))) as ScanOutput;
    const edited = CONFIG.replace(
      's3-bucket-key-enabled: { enabled: false }',
      's3-bucket-key-enabled: { enabled: true }',
    );
    s3.reset();
    mockAccount(
      { s3, sts, kms },
      {
        buckets: BUCKETS,
      },
    );
    uploadConfig(edited, '"c2"');

    // Act
    const second = (await scan({}, lambdaDeps(new LocalReportStore(root), deployed))) as ScanOutput;

    // Assess
    expect(first.summary.disabledRules).toEqual([
      's3-bucket-key-enabled',
      's3-bucket-policy-requires-encryption',
    ]);
    expect(second.summary.disabledRules).toEqual(['s3-bucket-policy-requires-encryption']);
    expect(second.summary.config).toMatchObject({ version: '"c2"', sha256: configHash(edited) });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input.IfNoneMatch).toBe('"c1"');
  });
});
