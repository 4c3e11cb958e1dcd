import {
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  DeleteBucketPolicyCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { awsSettings } from '../../../lib/aws/bucket-settings.js';
import { kmsError, noSuchBucketPolicy, s3AccessDenied, s3Error } from '../../helpers/aws-errors.js';
import { ACCOUNT, KEY_ARN } from '../../helpers/evidence.js';

const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const at = { bucket: 'orders', account: ACCOUNT, region: 'eu-west-1' };
const regions: string[] = [];
const settings = awsSettings({
  s3: (region) => {
    regions.push(`s3 ${region}`);
    return new S3Client({ region });
  },
  kms: (region) => {
    regions.push(`kms ${region}`);
    return new KMSClient({ region });
  },
});

afterEach(() => {
  s3.reset();
  kms.reset();
  regions.length = 0;
});

describe('the settings a fix reads and writes, over the SDK', () => {
  it("puts a policy with ExpectedBucketOwner and never ConfirmRemoveSelfBucketAccess, in the bucket's region", async () => {
    // Prepare
    s3.on(PutBucketPolicyCommand).resolves({ $metadata: { httpStatusCode: 204 } });

    // Act
    await settings.putPolicy(at, '{"Version":"2012-10-17","Statement":[]}');

    // Assess
    const input = s3.commandCalls(PutBucketPolicyCommand)[0]?.args[0].input;
    expect(input).toEqual({
      Bucket: 'orders',
      ExpectedBucketOwner: ACCOUNT,
      Policy: '{"Version":"2012-10-17","Statement":[]}',
    });
    expect(input).not.toHaveProperty('ConfirmRemoveSelfBucketAccess');
    expect(regions).toEqual(['s3 eu-west-1']);
  });

  it('reads a missing policy (NoSuchBucketPolicy, 404) as no policy, and throws AccessDenied as raised', async () => {
    // Prepare
    s3.on(GetBucketPolicyCommand, { Bucket: 'orders' })
      .rejectsOnce(noSuchBucketPolicy())
      .rejectsOnce(s3AccessDenied())
      .resolves({ Policy: '{"Version":"2012-10-17","Statement":[]}' });

    // Act
    const missing = await settings.readPolicy(at);
    const denied = await settings.readPolicy(at).catch((error: unknown) => error);
    const present = await settings.readPolicy(at);

    // Assess
    expect(missing).toBeUndefined();
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(present).toBe('{"Version":"2012-10-17","Statement":[]}');
    expect(s3.commandCalls(GetBucketPolicyCommand)[0]?.args[0].input).toEqual({
      Bucket: 'orders',
      ExpectedBucketOwner: ACCOUNT,
    });
  });

  it("reads default encryption as S3 answers it, and moto's 404 as none; writes the whole configuration", async () => {
    // Prepare
    const rules = [
      {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms' as const,
          KMSMasterKeyID: KEY_ARN,
        },
        BucketKeyEnabled: true,
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C' as const] },
      },
    ];
    s3.on(GetBucketEncryptionCommand)
      .resolvesOnce({ ServerSideEncryptionConfiguration: { Rules: rules } })
      .rejectsOnce(
        s3Error(
          'ServerSideEncryptionConfigurationNotFoundError',
          404,
          'The server side encryption configuration was not found',
        ),
      );
    s3.on(PutBucketEncryptionCommand).resolves({});

    // Act
    const read = await settings.readEncryption(at);
    const none = await settings.readEncryption(at);
    await settings.putEncryption(at, { Rules: rules });

    // Assess
    expect(read).toEqual({ Rules: rules });
    expect(none).toBeUndefined();
    expect(s3.commandCalls(PutBucketEncryptionCommand)[0]?.args[0].input).toEqual({
      Bucket: 'orders',
      ExpectedBucketOwner: ACCOUNT,
      ServerSideEncryptionConfiguration: { Rules: rules },
    });
  });

  it("sends KMS calls to the key's region, with the period, and reads rotation as KMS answers it", async () => {
    // Prepare
    const key = KEY_ARN.replace('us-east-1', 'ap-southeast-2');
    kms
      .on(GetKeyRotationStatusCommand)
      .resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 180, KeyId: key });
    kms.on(EnableKeyRotationCommand).resolves({});
    kms
      .on(DisableKeyRotationCommand)
      .rejects(kmsError('DisabledException', 400, `${key} is disabled.`));

    // Act
    const status = await settings.readRotation(key);
    await settings.enableRotation(key, 365);
    const disabled = await settings.disableRotation(key).catch((error: unknown) => error);

    // Assess
    expect(status).toEqual({ KeyRotationEnabled: true, RotationPeriodInDays: 180 });
    expect(kms.commandCalls(EnableKeyRotationCommand)[0]?.args[0].input).toEqual({
      KeyId: key,
      RotationPeriodInDays: 365,
    });
    expect(disabled).toMatchObject({ name: 'DisabledException' });
    expect(new Set(regions)).toEqual(new Set(['kms ap-southeast-2']));
  });

  it('deletes a policy with ExpectedBucketOwner (an undo of a fix to a bucket that had none)', async () => {
    // Prepare
    s3.on(DeleteBucketPolicyCommand).resolves({ $metadata: { httpStatusCode: 204 } });

    // Act
    await settings.deletePolicy(at);

    // Assess
    expect(s3.commandCalls(DeleteBucketPolicyCommand)[0]?.args[0].input).toEqual({
      Bucket: 'orders',
      ExpectedBucketOwner: ACCOUNT,
    });
  });
});
