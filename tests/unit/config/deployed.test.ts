import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ConfigSource, SsmConfigSource } from '../../../lib/aws/config-sources.js';
import { configHash } from '../../../lib/config/config.js';
import { DeployedConfig } from '../../../lib/config/deployed.js';
import { ConfigError } from '../../../lib/errors.js';
import {
  s3AccessDenied,
  s3Error,
  s3NotModified,
  ssmAccessDenied,
  ssmParameterNotFound,
} from '../../helpers/aws-errors.js';

const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);
const BUCKET = 's3scan-reports-111122223333';
const KEY = 'config/s3scan.config.yml';
const LOCATION = `s3://${BUCKET}/${KEY}`;

const VALID = `rules:
  s3-bucket-key-enabled: { enabled: false }
  s3-bucket-tls-enforced: { severity: critical }
suppressions:
  - rule: s3-bucket-tls-enforced
    resource: legacy-*
    reason: migrating to the TLS-only policy
    expires: 2099-12-31
`;
const CHANGED = 'tls:\n  minVersion: "1.3"\n';

/** ListObjectsV2 of the config's exact key, as S3 answers it (ETags quoted, Dates). */
function listing(etag?: string, size = 300) {
  return etag
    ? {
        IsTruncated: false,
        KeyCount: 1,
        MaxKeys: 1,
        Prefix: KEY,
        Name: BUCKET,
        Contents: [
          {
            Key: KEY,
            ETag: etag,
            Size: size,
            LastModified: new Date('2026-11-30T12:00:00Z'),
            StorageClass: 'STANDARD' as const,
          },
        ],
      }
    : { IsTruncated: false, KeyCount: 0, MaxKeys: 1, Prefix: KEY, Name: BUCKET };
}

const object = (text: string, etag: string) => ({
  Body: Readable.from([Buffer.from(text)]) as never,
  ETag: etag,
  ContentLength: Buffer.byteLength(text),
  ContentType: 'application/x-yaml',
  LastModified: new Date('2026-11-30T12:00:00Z'),
});

function deployedFromS3() {
  return new DeployedConfig(
    new S3ConfigSource({
      s3: new S3Client({ region: 'us-east-1' }),
      bucket: BUCKET,
      key: KEY,
      expectedOwner: '111122223333',
    }),
  );
}

afterEach(() => {
  s3.reset();
  ssm.reset();
});

describe('Class: DeployedConfig over the report bucket (config/s3scan.config.yml)', () => {
  it('uses the defaults when there is no config, and records where it looked', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves(listing());

    // Act
    const config = await deployedFromS3().load();

    // Assess
    expect(config.provenance).toEqual({ origin: 'default', location: LOCATION });
    expect(config.evaluation.suppressions).toEqual([]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Prefix: KEY,
      MaxKeys: 1,
      ExpectedBucketOwner: '111122223333',
    });
  });

  it('loads a valid config and records its origin, ETag and SHA-256', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves(listing('"e1"'));
    s3.on(GetObjectCommand).resolves(object(VALID, '"e1"'));

    // Act
    const config = await deployedFromS3().load();

    // Assess
    expect(config.provenance).toEqual({
      origin: 's3',
      location: LOCATION,
      version: '"e1"',
      sha256: configHash(VALID),
    });
    expect(config.evaluation.rules['s3-bucket-tls-enforced']).toEqual({ severity: 'critical' });
    expect(config.evaluation.suppressions.map((s) => s.resource)).toEqual(['legacy-*']);
  });

  it('reads an unchanged config once per container and re-reads it when it changes', async () => {
    // Prepare
    const deployed = deployedFromS3();
    s3.on(ListObjectsV2Command)
      .resolvesOnce(listing('"e1"'))
      .resolvesOnce(listing('"e1"'))
      .resolves(listing('"e2"'));
    s3.on(GetObjectCommand, { IfNoneMatch: undefined }).resolves(object(VALID, '"e1"'));
    s3.on(GetObjectCommand, { IfNoneMatch: '"e1"' }).resolves(object(CHANGED, '"e2"'));

    // Act
    const first = await deployed.load();
    const second = await deployed.load();
    const third = await deployed.load();

    // Assess: the second scan cost one LIST; the third fetched the new document.
    expect(second).toBe(first);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.IfNoneMatch)).toEqual([
      undefined,
      '"e1"',
    ]);
    expect(third.provenance).toMatchObject({ version: '"e2"', sha256: configHash(CHANGED) });
    expect(third.evaluation.settings.minTlsVersion).toBe('1.3');
    expect(third.evaluation.suppressions).toEqual([]);
  });

  it('keeps the cached config when GetObject answers 304 Not Modified', async () => {
    // Prepare: the listing saw a newer ETag, but the object read says nothing changed.
    const deployed = deployedFromS3();
    s3.on(ListObjectsV2Command).resolvesOnce(listing('"e1"')).resolves(listing('"e1-late"'));
    s3.on(GetObjectCommand, { IfNoneMatch: undefined }).resolves(object(VALID, '"e1"'));
    s3.on(GetObjectCommand, { IfNoneMatch: '"e1"' }).rejects(s3NotModified());

    // Act
    const first = await deployed.load();
    const second = await deployed.load();

    // Assess
    expect(second).toBe(first);
  });

  it('falls back to the defaults when the config is deleted, and says so', async () => {
    // Prepare
    const deployed = deployedFromS3();
    s3.on(ListObjectsV2Command).resolvesOnce(listing('"e1"')).resolves(listing());
    s3.on(GetObjectCommand).resolves(object(VALID, '"e1"'));

    // Act
    await deployed.load();
    const after = await deployed.load();

    // Assess
    expect(after.provenance).toEqual({ origin: 'default', location: LOCATION });
  });

  it('fails on an invalid config, naming the place and the field, and fails again next time', async () => {
    // Prepare
    const deployed = deployedFromS3();
    s3.on(ListObjectsV2Command).resolves(listing('"bad"'));
    s3.on(GetObjectCommand).callsFake(() =>
      object('rules:\n  s3-bucket-no-such-rule: { enabled: false }\n', '"bad"'),
    );

    // Act
    const first = deployed.load();
    const second = deployed.load();

    // Assess
    await expect(first).rejects.toThrow(ConfigError);
    await expect(second).rejects.toThrow(
      `the scanner config ${LOCATION} is invalid:\n  rules.s3-bucket-no-such-rule: is not a known name`,
    );
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('fails on YAML that does not parse, with the line', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves(listing('"y"'));
    s3.on(GetObjectCommand).resolves(object('scan:\n  concurrency: 3\n bad: [\n', '"y"'));

    // Act & Assess
    await expect(deployedFromS3().load()).rejects.toThrow(/is not valid YAML: .*line \d+/);
  });

  it('never falls back to the defaults when the config cannot be read', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).rejects(s3AccessDenied());

    // Act & Assess
    await expect(deployedFromS3().load()).rejects.toThrow(
      `cannot read the scanner config ${LOCATION}: ListObjectsV2 answered AccessDenied (HTTP 403): Access Denied`,
    );
  });

  it('refuses a config object too large to be one, without reading it', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves(listing('"big"', 5 * 1024 * 1024));

    // Act & Assess
    await expect(deployedFromS3().load()).rejects.toThrow(
      /5242880 bytes; a config file is at most/,
    );
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('treats an object deleted between the listing and the read as missing', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves(listing('"e1"'));
    s3.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404, 'The specified key does not exist.'));

    // Act
    const config = await deployedFromS3().load();

    // Assess
    expect(config.provenance.origin).toBe('default');
  });
});

describe('Class: DeployedConfig over an SSM parameter', () => {
  const NAME = '/s3scan/config';
  const deployedFromSsm = () =>
    new DeployedConfig(
      new SsmConfigSource({ ssm: new SSMClient({ region: 'us-east-1' }), name: NAME }),
    );
  const parameter = (value: string, version: number, type = 'String') => ({
    Parameter: {
      Name: NAME,
      Type: type as 'String',
      Value: value,
      Version: version,
      LastModifiedDate: new Date('2026-11-30T12:00:00Z'),
      ARN: `arn:aws:ssm:us-east-1:111122223333:parameter${NAME}`,
      DataType: 'text',
    },
  });

  it('uses the defaults when the parameter does not exist', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(ssmParameterNotFound());

    // Act
    const config = await deployedFromSsm().load();

    // Assess
    expect(config.provenance).toEqual({ origin: 'default', location: `ssm:${NAME}` });
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: NAME,
      WithDecryption: false,
    });
  });

  it('loads the parameter, keeps it while its version stays, and re-reads a new version', async () => {
    // Prepare
    const deployed = deployedFromSsm();
    ssm
      .on(GetParameterCommand)
      .resolvesOnce(parameter(VALID, 3))
      .resolvesOnce(parameter(VALID, 3))
      .resolves(parameter(CHANGED, 4));

    // Act
    const first = await deployed.load();
    const second = await deployed.load();
    const third = await deployed.load();

    // Assess
    expect(first.provenance).toEqual({
      origin: 'ssm',
      location: `ssm:${NAME}`,
      version: '3',
      sha256: configHash(VALID),
    });
    expect(second).toBe(first);
    expect(third.provenance.version).toBe('4');
    expect(third.evaluation.settings.minTlsVersion).toBe('1.3');
  });

  it('refuses a SecureString parameter with the reason', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves(parameter('AQICAHh...', 1, 'SecureString'));

    // Act & Assess
    await expect(deployedFromSsm().load()).rejects.toThrow(
      /is a SecureString; store the config as a String parameter/,
    );
  });

  it('fails when the parameter may not be read', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .rejects(ssmAccessDenied(`arn:aws:ssm:us-east-1:111122223333:parameter${NAME}`));

    // Act & Assess
    await expect(deployedFromSsm().load()).rejects.toThrow(
      /cannot read the scanner config ssm:\/s3scan\/config: GetParameter answered AccessDeniedException \(HTTP 400\)/,
    );
  });
});
