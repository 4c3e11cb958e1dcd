/** The five verdicts of aws-facts.md section 3.3. */
export interface PolicyVerdicts {
  tlsEnforced: boolean;
  tlsMinVersion: string | null;
  sseEnforced: boolean | null;
  kmsKeyEnforced: boolean | null;
  sseCBlocked: boolean | null;
}

/** Why a verdict is not satisfied: what stays allowed, and the statement that came closest. */
export interface PolicyGap {
  verdict: keyof PolicyVerdicts;
  principals: string[];
  actions: string[];
  resources: string[];
  closestStatement: string | null;
  reason: string;
}

/** Which policy a statement comes from: the bucket policy, or an organisation policy on the account's path. */
export type PolicyLayerKind = 'bucket-policy' | 'rcp' | 'scp' | 'access-point';

/** A statement that enforces a verdict, and the layer it belongs to. */
export interface EnforcingStatement {
  layer: PolicyLayerKind;
  /** How to name it to a person, e.g. `RCP p-abc "EnforceTLS" attached to ou-x, statement #0`. */
  statement: string;
  policyId?: string;
  policyName?: string;
  /** The root, OU or account the organisation policy is attached to. */
  attachedTo?: string;
}

/**
 * An organisation policy to judge together with the bucket policy: its Deny statements deny
 * like the bucket policy's own (an RCP's apply to every principal; an SCP's only to the
 * organisation's, which the caller accounts for).
 */
export interface PolicyLayerDocument {
  /** `access-point`: an access point's policy, judged only on requests through it. */
  kind: 'rcp' | 'scp' | 'access-point';
  policyId: string;
  policyName: string;
  /** The root, OU or account id it is attached to. */
  attachedTo: string;
  /** The policy text as Organizations returned it. */
  document: string;
}

/** The analyzer's answer for one bucket policy. */
export interface PolicyAnalysis extends PolicyVerdicts {
  /**
   * For each verdict that holds (or, for `tlsMinVersion`, is set): the Deny statements that
   * make it hold, with their layer, so a finding can say who enforces it.
   */
  enforcedBy: Partial<Record<keyof PolicyVerdicts, EnforcingStatement[]>>;
  /** How many Deny statements of the organisation policy layers were judged with the bucket's. */
  layerDenies: number;
  /**
   * TLS holds because every request not made through an access point is denied, and access
   * points accept HTTPS only: TLS-only by construction, with no aws:SecureTransport test.
   */
  tlsThroughAccessPointsOnly: boolean;
  /**
   * The bucket refuses requests not made through an access point (a Deny on the access point
   * keys), whatever else denies: its access points are its only doors.
   */
  onlyThroughAccessPoints: boolean;
  gaps: PolicyGap[];
  /** KMS key ARNs that the policy names in `s3:x-amz-server-side-encryption-aws-kms-key-id`. */
  pinnedKmsKeyArns: string[];
  /**
   * When uploads without an encryption header are denied (`sseEnforced`): the statements that
   * deny them, by label. Bucket policies are evaluated before default encryption, so these
   * turn away writers that rely on the default.
   */
  headerlessUploadDenials: string[];
  /**
   * SSE-C uploads are rejected, though no statement tests the SSE-C header: a side effect of
   * requiring `x-amz-server-side-encryption`, which SSE-C requests do not carry.
   */
  sseCRejectedAsSideEffect: boolean;
  /** Remarks that are not gaps, e.g. side effects worth knowing. */
  notes: string[];
}

/** Where the policy is attached. */
export interface AnalyzeOptions {
  bucket: string;
  /** `aws`, `aws-cn`, `aws-us-gov`; inferred from the policy's resources when omitted. */
  partition?: string;
  /** The bucket owner's account; decides which principals count as "same account". */
  accountId?: string;
  /** Organisation policies judged with the bucket policy (their Deny statements only). */
  layers?: PolicyLayerDocument[];
  /**
   * Keys every upload probe carries, fixed rather than chosen by an attacker: the path of an
   * access point (`s3:DataAccessPointArn`, `s3:DataAccessPointAccount`, ...).
   */
  uploadContext?: Record<string, string>;
}
