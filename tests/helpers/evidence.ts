import type {
  BucketEvidence,
  KmsKeyEvidence,
  KmsKeyMetadata,
  ScanEvidence,
} from '../../lib/evidence/types.js';

export const ACCOUNT = '111122223333';
export const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** A bucket with SSE-S3 and no policy; override what a test needs. */
export function bucketEvidence(
  name: string,
  overrides: Partial<BucketEvidence> = {},
): BucketEvidence {
  return {
    name,
    arn: `arn:aws:s3:::${name}`,
    region: 'us-east-1',
    accountId: ACCOUNT,
    partition: 'aws',
    encryption: {
      ok: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
            BucketKeyEnabled: false,
          },
        ],
      },
    },
    policy: { absent: 'NoSuchBucketPolicy' },
    policyStatus: { absent: 'NoSuchBucketPolicy' },
    versioning: { ok: {} },
    inventoryConfigurations: { ok: [] },
    ...overrides,
  };
}

/** Default encryption with a KMS key (and the key's ref when it is not aws/s3). */
export function kmsEncryption(
  keyId: string | undefined,
  options: { algorithm?: string; bucketKey?: boolean; blocked?: string[] } = {},
): Pick<BucketEvidence, 'encryption'> & { defaultKmsKeyRef?: string } {
  return {
    encryption: {
      ok: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: options.algorithm ?? 'aws:kms',
              ...(keyId ? { KMSMasterKeyID: keyId } : {}),
            },
            ...(options.bucketKey !== undefined ? { BucketKeyEnabled: options.bucketKey } : {}),
            ...(options.blocked
              ? { BlockedEncryptionTypes: { EncryptionType: options.blocked } }
              : {}),
          },
        ],
      },
    },
    ...(keyId?.startsWith('arn:') && !keyId.includes(':alias/aws/s3')
      ? { defaultKmsKeyRef: keyId }
      : {}),
  };
}

/** KeyMetadata as DescribeKey returns it (Dates already JSON). */
export function keyMetadata(arn: string, overrides: Partial<KmsKeyMetadata> = {}): KmsKeyMetadata {
  return {
    KeyId: arn.split('/').pop() ?? arn,
    Arn: arn,
    AWSAccountId: arn.split(':')[4] ?? ACCOUNT,
    KeyManager: 'CUSTOMER',
    KeyState: 'Enabled',
    Enabled: true,
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyUsage: 'ENCRYPT_DECRYPT',
    Origin: 'AWS_KMS',
    CreationDate: '2024-03-01T09:00:00.000Z',
    ...overrides,
  };
}

/** The policy KMS gives a key created without one: its account's root may do everything. */
export function defaultKeyPolicy(account = ACCOUNT): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

/** KMS facts for a key: enabled, customer managed, rotating, the default policy, unless overridden. */
export function keyEvidence(arn: string, overrides: Partial<KmsKeyEvidence> = {}): KmsKeyEvidence {
  return {
    ref: arn,
    region: arn.split(':')[3] ?? 'us-east-1',
    describe: { ok: keyMetadata(arn) },
    rotation: { ok: { KeyRotationEnabled: true, RotationPeriodInDays: 365 } },
    keyPolicy: { ok: defaultKeyPolicy(arn.split(':')[4] ?? ACCOUNT) },
    ...overrides,
  };
}

/** A whole-scan evidence bundle. */
export function scanEvidence(
  buckets: BucketEvidence[],
  kmsKeys: KmsKeyEvidence[] = [],
): ScanEvidence {
  return {
    schemaVersion: '1.0',
    tool: { name: 's3scan', version: 'test' },
    scanId: 'test-scan',
    scanTime: '2026-11-01T06:00:00.000Z',
    accountId: ACCOUNT,
    partition: 'aws',
    buckets,
    kmsKeys: Object.fromEntries(kmsKeys.map((k) => [k.ref, k])),
  };
}

/** The canonical TLS-only policy of the AWS docs for a bucket. */
export function tlsPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RestrictToTLSRequestsOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });
}

/** Object evidence with only the given tallies set. */
export function objectScan(
  overrides: Partial<import('../../lib/evidence/types.js').ObjectScanEvidence> = {},
): import('../../lib/evidence/types.js').ObjectScanEvidence {
  return {
    mode: 'full',
    versions: false,
    complete: true,
    listed: 10,
    classified: 10,
    byEncryption: { 'SSE-S3': { count: 10, bytes: 1000, examples: ['a', 'b'] } },
    noncurrentByEncryption: {},
    byKmsKey: {},
    byStorageClass: { STANDARD: { count: 10, bytes: 1000 } },
    unknownAlgorithms: {},
    clientSide: { v1: 0, v2: 0, v3: 0 },
    denied: { count: 0, bytes: 0, examples: [] },
    failed: { count: 0, bytes: 0, examples: [], codes: {} },
    deleteMarkers: 0,
    ...overrides,
  };
}

/** A tally of `count` objects with example keys. */
export const tally = (count: number, ...examples: string[]) => ({
  count,
  bytes: count * 100,
  examples,
});
