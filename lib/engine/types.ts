import type {
  AccessPointEvidence,
  AccountEvidence,
  BucketEvidence,
  DirectoryListing,
  KmsKeyEvidence,
} from '../evidence/types.js';
import type { EnforcingStatement, PolicyAnalysis, PolicyVerdicts } from '../policy/analyze.js';
import type { LayerStatus } from './layers.js';

/** Finding severities, most severe first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Finding statuses. ERROR means s3scan could not observe what the rule needs. */
export const STATUSES = ['PASS', 'FAIL', 'ERROR', 'SKIPPED'] as const;
export type Status = (typeof STATUSES)[number];

/** Organisation-specific inputs to the rules, from the config file. */
export interface RuleSettings {
  /** When non-empty, the only KMS key ARNs a bucket may use by default. */
  allowedKmsKeyArns: string[];
  /** Accounts, besides the bucket's own, whose KMS keys are acceptable. */
  allowedKeyAccounts: string[];
  /** The minimum TLS version the organisation requires (AWS itself enforces 1.2). */
  minTlsVersion: string;
  /**
   * How uploads are meant to get their encryption, which decides which of the two opposite
   * upload-header rules is on: `use-bucket-default` (writers rely on default encryption; a
   * policy that rejects header-less uploads is a finding) or `require-header` (the bucket
   * policy must reject uploads that name no encryption).
   */
  uploadEncryption: UploadEncryption;
}

/** The two stances on upload encryption headers (config `uploadEncryption`). */
export const UPLOAD_ENCRYPTION_STANCES = ['use-bucket-default', 'require-header'] as const;
export type UploadEncryption = (typeof UPLOAD_ENCRYPTION_STANCES)[number];

/**
 * The effective resource policy as the rules see it: the bucket policy judged together with the
 * RCPs on its account's path (`layers` says whether they were read, and why not).
 *
 * - `analysis`: the bucket policy and the RCPs' Deny statements, judged as IAM does.
 *   `bucketPolicy: 'absent'` when the bucket has no policy and only RCPs deny. `scpOnly`: the
 *   verdicts that do not hold for every principal but would for the organisation's own, named
 *   by the SCP statements that would make them hold (an SCP never turns a FAIL into a PASS).
 * - `absent`: no bucket policy, and no RCP denies anything.
 * - `failed`: the bucket policy or an RCP could not be read or analysed.
 */
export type PolicyView =
  | {
      analysis: PolicyAnalysis;
      layers: LayerStatus;
      bucketPolicy?: 'absent';
      scpOnly?: Partial<Record<keyof PolicyVerdicts, EnforcingStatement[]>>;
    }
  | {
      absent: string;
      layers: LayerStatus;
      scpOnly?: Partial<Record<keyof PolicyVerdicts, EnforcingStatement[]>>;
    }
  | { failed: string; layers?: LayerStatus };

/** Everything a bucket rule may look at. Pure data: no SDK, no clock but `scanTime`. */
export interface BucketContext {
  bucket: BucketEvidence;
  kmsKeys: Readonly<Record<string, KmsKeyEvidence>>;
  scanTime: string;
  settings: RuleSettings;
  /** The analysed bucket policy; computed once per bucket and shared by the rules. */
  policy: () => PolicyView;
}

/** What a rule decided for one resource. */
export interface RuleOutcome {
  status: Status;
  /** One sentence naming the resource, ending with a period. */
  message: string;
  details?: Record<string, unknown>;
  /** Set when this outcome is more (or less) severe than the rule's default. */
  severity?: Severity;
}

/** What a finding is about: a bucket, or (organisation-wide scans) an account. */
export type ResourceType = 'AWS::S3::Bucket' | 'AWS::S3::AccessPoint' | 'AWS::::Account';

/** True for findings about a bucket or one of its access points (named after the bucket). */
export function isBucketScoped(resource: { type: ResourceType }): boolean {
  return resource.type !== 'AWS::::Account';
}

/** Documentation and remediation of a rule, kept next to its code. */
export interface RuleMetadata {
  /** `s3-<resource>-<expected state>`, equal to the file name. */
  id: string;
  title: string;
  severity: Severity;
  resourceType: ResourceType;
  description: string;
  rationale: string;
  remediation: {
    text: string;
    cli: string;
    cloudformation: string;
  };
  references: string[];
  /** The evidence fields the rule reads; a denied or failed one makes it ERROR. */
  evidence: string[];
  /**
   * On by default only under this upload-encryption stance (the config's `uploadEncryption`);
   * `rules.<id>.enabled` still decides when it is set.
   */
  onlyWhenUploadEncryption?: UploadEncryption;
}

/** A bucket-level rule. `evaluate` must be pure and must not throw for valid evidence. */
export interface Rule extends RuleMetadata {
  resourceType: 'AWS::S3::Bucket';
  /**
   * Whether the rule judges S3 Express One Zone directory buckets, or why not: those are
   * SKIPPED with this reason, never judged by rules made for general purpose buckets.
   */
  directoryBuckets: 'applies' | { skipped: string };
  evaluate: (context: BucketContext) => RuleOutcome;
}

/** Everything an access point rule may look at: one access point on one bucket. */
export interface AccessPointContext {
  bucket: BucketEvidence;
  accessPoint: AccessPointEvidence;
  scanTime: string;
  settings: RuleSettings;
  /** The bucket's own policy view (bucket policy and RCPs), as the bucket rules see it. */
  bucketPolicy: () => PolicyView;
  /**
   * Requests through this access point: the bucket policy, the RCPs and the access point's
   * policy, with the access point's keys (`s3:DataAccessPointArn`, …) on every upload.
   */
  throughAccessPoint: () => PolicyView;
}

/** A rule judged once per access point of a bucket; its findings' resource is the access point. */
export interface AccessPointRule extends RuleMetadata {
  resourceType: 'AWS::S3::AccessPoint';
  evaluate: (context: AccessPointContext) => RuleOutcome;
}

/** Everything an account rule may look at. */
export interface AccountContext {
  account: AccountEvidence;
  partition: string;
  scanTime: string;
}

/** Everything a listing rule may look at: one region's directory bucket listing. */
export interface ListingContext {
  listing: DirectoryListing;
  partition: string;
  scanTime: string;
}

/** A rule judged once per (account, region) directory bucket listing. */
export interface ListingRule extends RuleMetadata {
  resourceType: 'AWS::::Account';
  evaluate: (context: ListingContext) => RuleOutcome;
}

/** An account-level rule of organisation-wide scans: pure, like a bucket rule. */
export interface AccountRule extends RuleMetadata {
  resourceType: 'AWS::::Account';
  evaluate: (context: AccountContext) => RuleOutcome;
}

/** A suppression as it applied (or stopped applying) to a finding. */
export interface AppliedSuppression {
  /** The suppression's resource pattern as configured (a name, an ARN or a glob). */
  resource: string;
  reason: string;
  expires: string;
  /** False once `expires` is before the scan time: the finding counts again. */
  active: boolean;
}

/**
 * How much a verdict saw:
 * - `complete`: every relevant setting or object (a bucket's configuration is read whole);
 * - `sample`: `classified` objects of `listed`, drawn uniformly by hash rank; a PASS carries
 *   `upperBound95`, the share of violating objects the sample cannot rule out (95 %
 *   confidence: none in n means at most 1 - 0.05^(1/n), about 3/n);
 * - `inventory`: an S3 Inventory delivery, `ageDays` old at the scan: objects written since
 *   are not covered;
 * - `none`: nothing was observed for it (objects were not scanned).
 * `carriedFrom`: the object counts are a previous scan's (a rescan reads no objects).
 */
export type Assurance =
  | { kind: 'complete'; carriedFrom?: string }
  | {
      kind: 'sample';
      classified: number;
      listed: number;
      upperBound95?: number;
      carriedFrom?: string;
    }
  | { kind: 'inventory'; deliveredAt: string; ageDays: number; carriedFrom?: string }
  | { kind: 'none' };

/** The kinds of {@link Assurance}, for counts. */
export const ASSURANCE_KINDS = ['complete', 'sample', 'inventory', 'none'] as const;

/** One rule's verdict on one resource. */
export interface Finding {
  ruleId: string;
  title: string;
  status: Status;
  severity: Severity;
  resource: {
    arn: string;
    type: ResourceType;
    /** The bucket's name; an account finding's is the account id. */
    name: string;
    region: string;
    account: string;
  };
  message: string;
  details: Record<string, unknown>;
  /** Path of the evidence file inside the scan folder. */
  evidenceRef: string;
  /** hash(ruleId, resource ARN): stable across scans. */
  fingerprint: string;
  suppression?: AppliedSuppression;
  /** How much the verdict saw; absent in findings stored before s3scan recorded it. */
  assurance?: Assurance;
}
