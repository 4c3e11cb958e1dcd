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

/** The analyzer's answer for one bucket policy. */
export interface PolicyAnalysis extends PolicyVerdicts {
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
}
