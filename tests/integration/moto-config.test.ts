import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependenciesFromEnv, type ScanOutput, scan } from '../../functions/scan.js';
import { CONFIG_OBJECT_KEY, SsmConfigSource } from '../../lib/aws/config-sources.js';
import { httpStatus } from '../../lib/aws/errors.js';
import { configHash } from '../../lib/config/config.js';
import { DeployedConfig } from '../../lib/config/deployed.js';
import { ConfigError } from '../../lib/errors.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';

/**
 * The deployed config path against moto, an S3 and SSM nobody here wrote: the scan Lambda's
 * own dependencies (dependenciesFromEnv), reaching moto through AWS_ENDPOINT_URL as a
 * deployment reaches AWS. Checks what the unit tests assume: ListObjectsV2 on the exact key,
 * listing ETags equal to GetObject's, the 304 of a conditional GET, SSM versions.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}

const REPORTS = 's3scan-reports-e2e';
const DATA = 'customer-data-e2e';
const CONFIG = 'rules:\n  s3-bucket-key-enabled: { enabled: false }\n';
const CHANGED =
  'rules:\n  s3-bucket-key-enabled: { enabled: false }\n  s3-bucket-tls-enforced: { severity: critical }\n';

describe.skipIf(!availability.ok)('the deployed config against moto (S3 and SSM)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      REPORT_BUCKET: REPORTS,
      SCAN_MAX_ATTEMPTS: '2',
    });
    delete process.env.CONFIG_PARAMETER;
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: REPORTS }));
    await s3.send(new CreateBucketCommand({ Bucket: DATA }));
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    s3?.destroy();
    await moto?.stop();
  });

  const upload = (text: string) =>
    s3.send(new PutObjectCommand({ Bucket: REPORTS, Key: CONFIG_OBJECT_KEY, Body: text }));

  it('scans with the defaults, recorded as such, while the bucket holds no config', async () => {
    // Act
    const output = (await scan({ buckets: [DATA] }, dependenciesFromEnv())) as ScanOutput;

    // Assess
    expect(output.summary.config).toEqual({
      origin: 'default',
      location: `s3://${REPORTS}/${CONFIG_OBJECT_KEY}`,
    });
    expect(output.summary.disabledRules).toEqual(['s3-bucket-policy-requires-encryption']);
  });

  it('applies an uploaded config, keeps it while unchanged and applies an edit on the next scan', async () => {
    // Prepare: one container: the handler's dependencies are built once.
    const deps = dependenciesFromEnv();
    const put = await upload(CONFIG);

    // Act
    const first = (await scan({ buckets: [DATA] }, deps)) as ScanOutput;
    const second = (await scan({ buckets: [DATA] }, deps)) as ScanOutput;
    const edited = await upload(CHANGED);
    const third = (await scan({ buckets: [DATA] }, deps)) as ScanOutput;

    // Assess
    expect(first.summary.config).toEqual({
      origin: 's3',
      location: `s3://${REPORTS}/${CONFIG_OBJECT_KEY}`,
      version: put.ETag,
      sha256: configHash(CONFIG),
    });
    expect(first.summary.disabledRules).toEqual([
      's3-bucket-key-enabled',
      's3-bucket-policy-requires-encryption',
    ]);
    expect(second.summary.config).toEqual(first.summary.config);
    expect(third.summary.config).toMatchObject({
      version: edited.ETag,
      sha256: configHash(CHANGED),
    });
    expect(third.findings.find((f) => f.ruleId === 's3-bucket-tls-enforced')?.severity).toBe(
      'critical',
    );
  });

  it('answers a conditional GET of an unchanged object with the 304 the config source reads', async () => {
    // Prepare
    const put = await upload(CONFIG);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: REPORTS, Prefix: CONFIG_OBJECT_KEY, MaxKeys: 1 }),
    );

    // Act
    const error = await s3
      .send(
        new GetObjectCommand({ Bucket: REPORTS, Key: CONFIG_OBJECT_KEY, IfNoneMatch: put.ETag }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    // Assess: the listing carries the same ETag as the object, and the 304 is an error whose
    // status is 304 (whatever the SDK names it).
    expect(listed.Contents?.map((o) => [o.Key, o.ETag])).toEqual([[CONFIG_OBJECT_KEY, put.ETag]]);
    expect(httpStatus(error)).toBe(304);
  });

  it('fails the scan on an invalid config, naming the field, and publishes nothing', async () => {
    // Prepare
    await upload('tls:\n  minVersion: "1.1"\n');
    const before = await s3.send(new ListObjectsV2Command({ Bucket: REPORTS, Prefix: 'scans/' }));

    // Act
    const attempt = scan({ buckets: [DATA] }, dependenciesFromEnv());

    // Assess
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(scan({ buckets: [DATA] }, dependenciesFromEnv())).rejects.toThrow(
      /is invalid:\n {2}tls.minVersion: must be one of/,
    );
    const after = await s3.send(new ListObjectsV2Command({ Bucket: REPORTS, Prefix: 'scans/' }));
    expect(after.KeyCount).toBe(before.KeyCount);
    await s3.send(new DeleteObjectCommand({ Bucket: REPORTS, Key: CONFIG_OBJECT_KEY }));
  });

  it('reads an SSM String parameter, and its new version after an overwrite', async () => {
    // Prepare
    const ssm = new SSMClient({ region: 'us-east-1', endpoint: moto.endpoint });
    const deployed = new DeployedConfig(new SsmConfigSource({ ssm, name: '/s3scan/config' }));
    const missing = await deployed.load();
    await ssm.send(
      new PutParameterCommand({ Name: '/s3scan/config', Type: 'String', Value: CONFIG }),
    );
    const deps = { ...dependenciesFromEnv(), config: () => deployed.load() };

    // Act
    const first = (await scan({ buckets: [DATA] }, deps)) as ScanOutput;
    await ssm.send(
      new PutParameterCommand({
        Name: '/s3scan/config',
        Type: 'String',
        Value: CHANGED,
        Overwrite: true,
      }),
    );
    const second = (await scan({ buckets: [DATA] }, deps)) as ScanOutput;

    // Assess
    expect(missing.provenance).toEqual({ origin: 'default', location: 'ssm:/s3scan/config' });
    expect(first.summary.config).toEqual({
      origin: 'ssm',
      location: 'ssm:/s3scan/config',
      version: '1',
      sha256: configHash(CONFIG),
    });
    expect(second.summary.config).toMatchObject({ version: '2', sha256: configHash(CHANGED) });
    ssm.destroy();
  });
});
