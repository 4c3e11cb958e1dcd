import type { Probe } from './probe.js';

/** The evidence format version. Readers refuse any other major version. */
export const EVIDENCE_SCHEMA_VERSION = '1.0';

/** One default-encryption rule, as GetBucketEncryption returns it (SDK member names). */
export interface ServerSideEncryptionRule {
  ApplyServerSideEncryptionByDefault?: {
    SSEAlgorithm?: string;
    KMSMasterKeyID?: string;
  };
  /** Sits on the rule, not inside ApplyServerSideEncryptionByDefault; absent means false. */
  BucketKeyEnabled?: boolean;
  /** An object wrapping an array: `{ EncryptionType: ['SSE-C'] }`. */
  BlockedEncryptionTypes?: { EncryptionType?: string[] };
}

/** GetBucketEncryption output, minus `$metadata`. */
export interface ServerSideEncryptionConfiguration {
  Rules: ServerSideEncryptionRule[];
}

/** GetBucketVersioning output. `Status` is absent when versioning was never enabled. */
export interface BucketVersioning {
  Status?: string;
  MFADelete?: string;
}

/** One S3 Inventory configuration, kept close to the SDK shape. */
export interface InventoryConfiguration {
  Id?: string;
  IsEnabled?: boolean;
  IncludedObjectVersions?: string;
  Schedule?: { Frequency?: string };
  Filter?: { Prefix?: string };
  Destination?: {
    S3BucketDestination?: {
      Bucket?: string;
      Format?: string;
      AccountId?: string;
      Prefix?: string;
    };
  };
  OptionalFields?: string[];
}

/** Everything observed about one general purpose bucket. */
export interface BucketEvidence {
  name: string;
  arn: string;
  region: string;
  accountId: string;
  partition: string;
  /** From ListBuckets; changes when settings change, so it is not the real creation date. */
  creationDate?: string;
  encryption: Probe<ServerSideEncryptionConfiguration>;
  /** The policy document exactly as AWS returned it: a JSON string. */
  policy: Probe<string>;
  policyStatus: Probe<{ IsPublic?: boolean }>;
  versioning: Probe<BucketVersioning>;
  inventoryConfigurations: Probe<InventoryConfiguration[]>;
  /**
   * The default KMS key of the bucket as a canonical ARN (key or alias ARN), the lookup key in
   * `kmsKeys`. Absent when the default is not KMS, or is the AWS managed `aws/s3` key.
   */
  defaultKmsKeyRef?: string;
}

/** KMS DescribeKey output's KeyMetadata, Dates as ISO strings. */
export interface KmsKeyMetadata {
  KeyId: string;
  Arn?: string;
  AWSAccountId?: string;
  KeyManager?: string;
  KeyState?: string;
  Enabled?: boolean;
  Origin?: string;
  KeySpec?: string;
  KeyUsage?: string;
  MultiRegion?: boolean;
  CreationDate?: string;
  DeletionDate?: string;
  Description?: string;
  [other: string]: unknown;
}

/** KMS GetKeyRotationStatus output, Dates as ISO strings. */
export interface KmsKeyRotation {
  KeyRotationEnabled?: boolean;
  RotationPeriodInDays?: number;
  NextRotationDate?: string;
}

/** Facts about one KMS key, collected once per key per scan, in the key's own region. */
export interface KmsKeyEvidence {
  /** The canonical reference (key ARN or alias ARN) the buckets point at. */
  ref: string;
  region: string;
  describe: Probe<KmsKeyMetadata>;
  /** Only collected for customer managed keys that DescribeKey could read. */
  rotation?: Probe<KmsKeyRotation>;
}

/** The evidence of a whole scan: input of `evaluate`, a pure function. */
export interface ScanEvidence {
  schemaVersion: string;
  tool: { name: string; version: string };
  scanId: string;
  /** ISO time the scan started; the only clock the rules ever see. */
  scanTime: string;
  accountId: string;
  partition: string;
  callerArn?: string;
  buckets: BucketEvidence[];
  kmsKeys: Record<string, KmsKeyEvidence>;
}

/** The per-bucket evidence file of the report store: one bucket and the keys it uses. */
export interface BucketEvidenceFile {
  schemaVersion: string;
  tool: { name: string; version: string };
  scanId: string;
  scanTime: string;
  accountId: string;
  partition: string;
  bucket: BucketEvidence;
  kmsKeys: Record<string, KmsKeyEvidence>;
}
