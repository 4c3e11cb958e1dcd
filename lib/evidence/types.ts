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

/**
 * Everything observed about one bucket: a general purpose bucket, or with `kind: 'directory'`
 * an S3 Express One Zone directory bucket (whose versioning, policy status and inventory
 * probes say `absent`: those features do not exist for it).
 */
export interface BucketEvidence {
  name: string;
  /** Absent: a general purpose bucket. */
  kind?: 'directory';
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
  /** Read only when the scan reads objects (absent at `--objects none`: no rule needs it). */
  versioning?: Probe<BucketVersioning>;
  /** Read only for the object modes that use an inventory (`inventory`, `auto`). */
  inventoryConfigurations?: Probe<InventoryConfiguration[]>;
  /**
   * The default KMS key of the bucket as a canonical ARN (key or alias ARN), the lookup key in
   * `kmsKeys`. Absent when the default is not KMS, or is the AWS managed `aws/s3` key.
   */
  defaultKmsKeyRef?: string;
  /** Object-level evidence, when objects were scanned (`--objects sample|full`). */
  objects?: ObjectScanEvidence;
  /**
   * The access points of the bucket's own account on it (ListAccessPoints in its region), each
   * with its policy; absent in evidence written before s3scan read them. `absent:
   * 'S3ControlUnavailable'`: the endpoint has no S3 Control (an S3-compatible store).
   */
  accessPoints?: Probe<AccessPointEvidence[]>;
}

/** One access point on a bucket, as ListAccessPoints and GetAccessPointPolicy told. */
export interface AccessPointEvidence {
  name: string;
  arn: string;
  alias?: string;
  /** `Internet` or `VPC`. */
  networkOrigin?: string;
  vpcId?: string;
  /** The account that owns the bucket, when S3 Control says. */
  bucketAccountId?: string;
  /** A Multi-Region Access Point that routes to the bucket (its ARN has no Region). */
  multiRegion?: boolean;
  /** The access point policy as S3 Control returned it (`absent`: none). */
  policy: Probe<string>;
}

/**
 * How an object is encrypted at rest, as HEAD (or S3 Inventory) tells. `CLIENT-SIDE`: no
 * server-side encryption, but S3 Encryption Client metadata on the object, so its bytes were
 * encrypted before upload (objects written before 2023 to buckets without a default).
 */
export const OBJECT_ENCRYPTION_TYPES = [
  'SSE-S3',
  'SSE-KMS',
  'DSSE-KMS',
  'SSE-C',
  'CLIENT-SIDE',
  'NONE',
  'UNKNOWN',
] as const;
export type ObjectEncryptionType = (typeof OBJECT_ENCRYPTION_TYPES)[number];

/** Count and bytes of a class of objects, with up to 100 example keys. */
export interface ObjectTally {
  count: number;
  bytes: number;
  examples: string[];
}

/** Aggregated object-level evidence of one bucket. The per-object list is streamed to the store. */
export interface ObjectScanEvidence {
  /** `inventory`: from an S3 Inventory delivery (no KMS key column: `byKmsKey` stays empty). */
  mode: 'sample' | 'full' | 'inventory';
  /** In `auto` mode: why the inventory could not be used and HEAD sampling was used instead. */
  inventoryUnavailable?: string;
  /** The delivery read, in inventory mode. */
  inventory?: {
    configurationId: string;
    manifest: string;
    createdAt: string;
    fileFormat: string;
    files: number;
  };
  /** Whether noncurrent versions were included (`--versions`). */
  versions: boolean;
  /** True when every listed object (or the whole sample) was classified. */
  complete: boolean;
  listed: number;
  classified: number;
  /** Objects of each encryption type; current and noncurrent versions counted apart. */
  byEncryption: Partial<Record<ObjectEncryptionType, ObjectTally>>;
  noncurrentByEncryption: Partial<Record<ObjectEncryptionType, ObjectTally>>;
  /** Objects by the KMS key ARN (or id) S3 reports for them. */
  byKmsKey: Record<string, ObjectTally>;
  byStorageClass: Record<string, { count: number; bytes: number }>;
  /** `ServerSideEncryption` values s3scan does not know (e.g. `aws:fsx`), with counts. */
  unknownAlgorithms: Record<string, number>;
  /**
   * Objects carrying S3 Encryption Client metadata, by format. `instructionFiles` counts
   * `<key>.instruction` objects: V1/V2 clients can keep all metadata there, leaving the
   * encrypted object itself with no marker at all (aws-facts.md section 1.4).
   */
  clientSide: { v1: number; v2: number; v3: number; instructionFiles?: number };
  /**
   * Inventory mode: the plaintext examples HEADed to find client-side encryption S3 Inventory
   * cannot show; `unverified` plaintext objects were beyond the examples.
   */
  plaintextVerified?: { headed: number; clientSide: number; failed: number; unverified: number };
  /** Newest LastModified among SSE-C objects: recent SSE-C writes are a ransomware indicator. */
  newestSseC?: string;
  /**
   * SSE-C objects known only from a key-less HEAD's 400 (counted in `byEncryption['SSE-C']`
   * too). A 400 has other causes, so rules other than the SSE-C rule count them as unseen.
   */
  sseCInferred?: number;
  /**
   * SSE-KMS / DSSE-KMS objects whose HEAD named no KMS key (`SSEKMSKeyId` absent): key-level
   * rules cannot judge them. Inventory has no key column, so there every KMS object counts.
   */
  kmsKeyUnknown?: number;
  /** HEAD answered 403: the object could not be classified. */
  denied: ObjectTally;
  /** HEAD failed otherwise (after retries). */
  failed: ObjectTally & { codes: Record<string, number> };
  /** Delete markers seen (they carry no encryption, so they are not classified). */
  deleteMarkers: number;
  /** Listing itself failed: nothing after this point was seen. */
  listError?: { code: string; message: string };
  /**
   * Not read by this scan: the tally of the full scan named, carried into a rescan. A rescan
   * re-reads a bucket's settings after an event; objects keep the encryption they were
   * written with when settings change, and their keys' state is described again.
   */
  carriedFrom?: { scanId: string; scanTime: string };
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
  /**
   * The key policy (GetKeyPolicy, name `default`) as KMS returned it, a JSON string; collected
   * like `rotation`. Denied for a key of another account: only its own account may read it.
   */
  keyPolicy?: Probe<string>;
}

/**
 * One account of an organisation-wide scan, as the scan reached it or did not: the rules
 * judge this, so an account that could not be read is an ERROR finding, never a silent gap.
 */
export interface AccountEvidence {
  accountId: string;
  /** The account's name in AWS Organizations, when the list came from there. */
  name?: string;
  /** `own`: the scanner's own credentials; `role`: the member role. */
  access: 'own' | 'role';
  /** The member role assumed (or tried), with `access: 'role'`. */
  roleArn?: string;
  /** `scanned`: its buckets are in this evidence; `failed`: none could be read; `skipped`: not ACTIVE. */
  status: 'scanned' | 'failed' | 'skipped';
  /** Why it failed or was skipped, as AWS or Organizations said it. */
  reason?: string;
  /** The region the scan reached it from (STS, ListBuckets). */
  region: string;
  /** Buckets of this account in the evidence. */
  buckets: number;
}

/** Where an organisation policy is attached: the root, an OU on the account's path, or the account. */
export interface PolicyTarget {
  id: string;
  type: 'ROOT' | 'ORGANIZATIONAL_UNIT' | 'ACCOUNT';
}

/**
 * One resource or service control policy attached on an account's path, as DescribePolicy
 * returned it. A policy attached at two levels appears once per attachment.
 */
export interface OrganizationPolicy {
  /** `p-…` */
  id: string;
  name: string;
  arn?: string;
  awsManaged?: boolean;
  /** Where it is attached. */
  target: PolicyTarget;
  /** The policy document exactly as Organizations returned it: a JSON string. */
  content: string;
}

/**
 * The organisation policies that apply to one account's resources (RCPs) and principals
 * (SCPs), read once per scan with the scanner's own credentials. `absent` codes:
 * `NotInOrganization`, `ConsolidatedBillingOnly` (no policies of any kind), `PolicyTypeNotEnabled`
 * (that type is not enabled on the root), `ManagementAccount` (neither RCPs nor SCPs apply to
 * the management account). `denied`: the scanner is not the management account or a delegated
 * administrator; never read as "no policies".
 */
export interface AccountPolicyLayers {
  accountId: string;
  organizationId?: string;
  managementAccountId?: string;
  /** The account's parents from the root down (root first), when they were read. */
  path?: PolicyTarget[];
  rcps: Probe<OrganizationPolicy[]>;
  scps: Probe<OrganizationPolicy[]>;
}

/**
 * One region's ListDirectoryBuckets: how many directory buckets it listed, `absent` when the
 * endpoint offers none (not AWS), or why the listing failed (then any directory bucket of the
 * region is unseen, and the listing rule says ERROR).
 */
export interface DirectoryListing {
  accountId: string;
  region: string;
  result: Probe<{ buckets: number }>;
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
  /** An organisation-wide scan's accounts (scanned, failed and skipped); absent for one account. */
  accounts?: AccountEvidence[];
  /** Each region's directory bucket listing; absent in evidence written before it. */
  directoryListings?: DirectoryListing[];
  /**
   * The organisation policies (RCPs, SCPs) of each scanned account; absent in evidence written
   * before s3scan read them, which the rules report as "not read".
   */
  policyLayers?: AccountPolicyLayers[];
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
