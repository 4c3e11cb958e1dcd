import {
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import {
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  type S3Client,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { errorCode } from './errors.js';

/** Where a bucket setting lives: the bucket, its owner (`ExpectedBucketOwner`) and region. */
export interface BucketAddress {
  bucket: string;
  account: string;
  region: string;
}

/** A default encryption configuration, as GetBucketEncryption returns it. */
export interface EncryptionSetting {
  Rules: {
    ApplyServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string };
    BucketKeyEnabled?: boolean;
    BlockedEncryptionTypes?: { EncryptionType?: string[] };
  }[];
}

/** A key's automatic rotation, as GetKeyRotationStatus returns it. */
export interface RotationSetting {
  KeyRotationEnabled: boolean;
  RotationPeriodInDays?: number;
}

/**
 * The bucket and key settings a fix reads and writes (remediation.md §2), one call each. A read
 * answers `undefined` where AWS says the setting is absent (`NoSuchBucketPolicy`; moto's 404 for
 * a bucket without default encryption); every other error is thrown as the SDK raised it.
 */
export interface SettingsPort {
  readPolicy(at: BucketAddress): Promise<string | undefined>;
  /** PutBucketPolicy with `ExpectedBucketOwner`, and never `ConfirmRemoveSelfBucketAccess`. */
  putPolicy(at: BucketAddress, policy: string): Promise<void>;
  deletePolicy(at: BucketAddress): Promise<void>;
  readEncryption(at: BucketAddress): Promise<EncryptionSetting | undefined>;
  putEncryption(at: BucketAddress, setting: EncryptionSetting): Promise<void>;
  deleteEncryption(at: BucketAddress): Promise<void>;
  readRotation(keyArn: string): Promise<RotationSetting>;
  enableRotation(keyArn: string, days: number): Promise<void>;
  disableRotation(keyArn: string): Promise<void>;
}

/** A key ARN's region: where its KMS calls go. */
export function regionOfKey(keyArn: string): string {
  return keyArn.split(':')[3] ?? '';
}

/** The settings port over SDK clients, per region (the CLI passes its `AwsClients`). */
export function awsSettings(clients: {
  s3(region: string): S3Client;
  kms(region: string): KMSClient;
}): SettingsPort {
  const absentAs = async <T>(call: Promise<T>, codes: string[]): Promise<T | undefined> => {
    try {
      return await call;
    } catch (error) {
      if (codes.includes(errorCode(error))) return undefined;
      throw error;
    }
  };
  const owner = (at: BucketAddress) => ({ Bucket: at.bucket, ExpectedBucketOwner: at.account });
  return {
    readPolicy: async (at) =>
      (
        await absentAs(clients.s3(at.region).send(new GetBucketPolicyCommand(owner(at))), [
          'NoSuchBucketPolicy',
        ])
      )?.Policy,
    putPolicy: async (at, policy) => {
      // Never ConfirmRemoveSelfBucketAccess: a fix must not take the caller's own access away.
      await clients
        .s3(at.region)
        .send(new PutBucketPolicyCommand({ ...owner(at), Policy: policy }));
    },
    deletePolicy: async (at) => {
      await clients.s3(at.region).send(new DeleteBucketPolicyCommand(owner(at)));
    },
    readEncryption: async (at) => {
      const answer = await absentAs(
        clients.s3(at.region).send(new GetBucketEncryptionCommand(owner(at))),
        ['ServerSideEncryptionConfigurationNotFoundError'],
      );
      const rules = answer?.ServerSideEncryptionConfiguration?.Rules;
      return rules ? { Rules: rules as EncryptionSetting['Rules'] } : undefined;
    },
    putEncryption: async (at, setting) => {
      await clients.s3(at.region).send(
        new PutBucketEncryptionCommand({
          ...owner(at),
          ServerSideEncryptionConfiguration: {
            Rules: setting.Rules as ServerSideEncryptionRule[],
          },
        }),
      );
    },
    deleteEncryption: async (at) => {
      await clients.s3(at.region).send(new DeleteBucketEncryptionCommand(owner(at)));
    },
    readRotation: async (keyArn) => {
      const answer = await clients
        .kms(regionOfKey(keyArn))
        .send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
      return {
        KeyRotationEnabled: answer.KeyRotationEnabled === true,
        ...(answer.RotationPeriodInDays !== undefined
          ? { RotationPeriodInDays: answer.RotationPeriodInDays }
          : {}),
      };
    },
    enableRotation: async (keyArn, days) => {
      await clients
        .kms(regionOfKey(keyArn))
        .send(new EnableKeyRotationCommand({ KeyId: keyArn, RotationPeriodInDays: days }));
    },
    disableRotation: async (keyArn) => {
      await clients.kms(regionOfKey(keyArn)).send(new DisableKeyRotationCommand({ KeyId: keyArn }));
    },
  };
}
