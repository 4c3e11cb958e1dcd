import { createHash } from 'node:crypto';
import { partitionOfRegion } from '../collect/assume-role.js';
import type { Finding } from '../engine/types.js';
import { isOk } from '../evidence/probe.js';
import type {
  BucketEvidence,
  BucketEvidenceFile,
  ServerSideEncryptionRule,
} from '../evidence/types.js';
import type { PolicyVerdicts } from '../policy/analysis-types.js';
import { analyzePolicySafely } from '../policy/analyze.js';
import { fixPolicy } from '../policy/fix.js';
import { type FixFilters, selectedBy } from './filters.js';
import { OBJECT_RULES, type ObjectJob, type ObjectsLeft } from './objects.js';

/**
 * Fix plans (issue 26, its first step): from a stored scan's failing findings and the
 * evidence behind them, the exact calls that would make each verdict PASS, the settings
 * before and after, and what each call must not change. A plan is read first; it applies
 * nothing. Pure: the CLI reads the scan and stores the plan.
 */

/** The rules a plan can fix, and the bucket setting each fix writes. */
export const FIXABLE_RULES = {
  's3-bucket-tls-enforced': 'bucket policy',
  's3-bucket-sse-c-blocked': 'default encryption',
  's3-bucket-kms-key-rotation': 'key rotation',
} as const;
export type FixableRule = keyof typeof FIXABLE_RULES;

/** S3's limit on a bucket policy (aws-facts / remediation.md §2.3), in bytes as sent. */
export const POLICY_SIZE_LIMIT = 20 * 1024;

/** One AWS call of a fix, with its exact input. */
export interface PlannedCall {
  api: 'PutBucketPolicy' | 'PutBucketEncryption' | 'EnableKeyRotation';
  /** The IAM action the caller needs for it. */
  action: string;
  input: Record<string, unknown>;
}

/** The fix of one failing finding. */
export interface BucketFix {
  bucket: string;
  account: string;
  region: string;
  rule: FixableRule;
  /** The finding it fixes (its fingerprint in the scan). */
  fingerprint: string;
  setting: (typeof FIXABLE_RULES)[FixableRule];
  /** The setting as the scan read it, and as the fix writes it. */
  before: unknown;
  after: unknown;
  /** What changes, in words (the statement added, the member set). */
  change: string;
  calls: PlannedCall[];
  /** What the calls must leave as it was. */
  keeps: string[];
}

/** A failing finding the plan does not fix, and why. */
export interface FixRefusal {
  bucket: string;
  account: string;
  region: string;
  rule: string;
  reason: string;
}

/** A fix plan: stored as a record of its own, named by its id. */
export interface FixPlan {
  schemaVersion: '1';
  fixId: string;
  /** The scan the plan was made from. */
  scanId: string;
  createdAt: string;
  fixes: BucketFix[];
  refused: FixRefusal[];
  /** The IAM actions applying every fix needs. */
  actions: string[];
  /** The Batch Operations jobs for the objects failing object rules (manifests apart). */
  objectJobs?: ObjectJob[];
  /** Objects of failing object rules no job fixes, and why. */
  objectsLeft?: ObjectsLeft[];
  /** Made by a rescan by itself (the config's `remediation.autoFix`), not by a person. */
  automatic?: boolean;
}

export type { FixFilters } from './filters.js';

/** A plan for the failing findings the filters select, each fixed from its bucket's evidence. */
export function planFixes(input: {
  scanId: string;
  findings: readonly Finding[];
  /** The bucket's evidence file as the scan stored it; undefined when it has none. */
  evidenceOf: (finding: Finding) => Pick<BucketEvidenceFile, 'bucket' | 'kmsKeys'> | undefined;
  filters?: FixFilters;
  now: Date;
}): FixPlan {
  const selected = selectedFindings(input.findings, input.filters ?? {});
  const fixes: BucketFix[] = [];
  const refused: FixRefusal[] = [];
  for (const finding of selected) {
    const where = {
      bucket: finding.resource.name,
      account: finding.resource.account,
      region: finding.resource.region,
    };
    if (!(finding.ruleId in FIXABLE_RULES)) {
      refused.push({
        ...where,
        rule: finding.ruleId,
        reason: 's3scan fix has no fix for this rule yet',
      });
      continue;
    }
    if (finding.status === 'ERROR') {
      refused.push({
        ...where,
        rule: finding.ruleId,
        reason: `the scan could not judge it (ERROR: ${finding.message}); rescan the bucket first`,
      });
      continue;
    }
    const evidence = input.evidenceOf(finding);
    const outcome = !evidence
      ? 'the scan holds no evidence of this bucket'
      : finding.ruleId === 's3-bucket-tls-enforced'
        ? tlsFix(finding, evidence.bucket)
        : finding.ruleId === 's3-bucket-sse-c-blocked'
          ? sseCFix(finding, evidence.bucket)
          : rotationFix(finding, evidence);
    if (typeof outcome === 'string')
      refused.push({ ...where, rule: finding.ruleId, reason: outcome });
    else fixes.push(outcome);
  }
  const createdAt = input.now.toISOString();
  const digest = createHash('sha256')
    .update(JSON.stringify([input.scanId, createdAt, fixes, refused]))
    .digest('hex')
    .slice(0, 12);
  return {
    schemaVersion: '1',
    fixId: `fix-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${digest}`,
    scanId: input.scanId,
    createdAt,
    fixes,
    refused,
    actions: [...new Set(fixes.flatMap((f) => f.calls.map((c) => c.action)))].sort(),
  };
}

/**
 * The findings a plan looks at: unsuppressed FAILs the filters select, and the ERRORs of
 * fixable rules (refused, saying why).
 */
function selectedFindings(findings: readonly Finding[], filters: FixFilters): Finding[] {
  return findings.filter(
    (f) =>
      (f.status === 'FAIL' || (f.status === 'ERROR' && f.ruleId in FIXABLE_RULES)) &&
      // Object rules are planned from the per-object list (objects.ts).
      !OBJECT_RULES.has(f.ruleId) &&
      selectedBy(filters, f),
  );
}

/** The findings whose bucket evidence a plan reads: the fixable FAILs the filters select. */
export function findingsToFix(findings: readonly Finding[], filters: FixFilters = {}): Finding[] {
  return selectedFindings(findings, filters).filter(
    (f) => f.status === 'FAIL' && f.ruleId in FIXABLE_RULES,
  );
}

const VERDICTS: (keyof PolicyVerdicts)[] = [
  'tlsEnforced',
  'sseEnforced',
  'kmsKeyEnforced',
  'sseCBlocked',
];

/**
 * The TLS-deny statement merged into the policy as read (remediation.md §2.3): every existing
 * statement kept, a Sid no statement uses, proven by the analyzer to enforce TLS and to hold
 * every verdict the policy held before, and under S3's size limit.
 */
function tlsFix(finding: Finding, evidence: BucketEvidence): BucketFix | string {
  const probe = evidence.policy;
  if (!isOk(probe) && !('absent' in probe))
    return `the bucket policy was not read (${'denied' in probe ? probe.denied : probe.error}); a fix would overwrite a policy nobody has seen`;
  const text = isOk(probe) ? probe.ok : undefined;
  const options = { bucket: evidence.name, partition: partitionOfRegion(evidence.region) };
  const before = analyzePolicySafely(text, options);
  if ('error' in before) return `the bucket policy cannot be analysed: ${before.error}`;
  let fixed: ReturnType<typeof fixPolicy>;
  try {
    fixed = fixPolicy(text, { ...options, tls: true });
  } catch (error) {
    const reason = (error as Error).message;
    return /AWS limits bucket policies/.test(reason)
      ? `the merged policy would be over S3's ${POLICY_SIZE_LIMIT}-byte limit (${reason})`
      : `no merged policy enforces TLS: ${reason}`;
  }
  const loosened = VERDICTS.filter(
    (v) => before.analysis[v] === true && fixed.analysis[v] !== true,
  );
  if (loosened.length > 0) return `the merged policy would loosen ${loosened.join(', ')}`;
  const policy = JSON.stringify(fixed.policy);
  const bytes = Buffer.byteLength(policy);
  if (bytes > POLICY_SIZE_LIMIT)
    return `the merged policy is ${bytes} bytes, over S3's ${POLICY_SIZE_LIMIT}-byte limit`;
  return {
    bucket: evidence.name,
    account: evidence.accountId,
    region: evidence.region,
    rule: 's3-bucket-tls-enforced',
    fingerprint: finding.fingerprint,
    setting: FIXABLE_RULES['s3-bucket-tls-enforced'],
    before: text === undefined ? null : JSON.parse(text),
    after: fixed.policy,
    change: `adds statement ${fixed.added.join(', ')}: Deny s3:* on the bucket and its objects when aws:SecureTransport is false`,
    calls: [
      {
        api: 'PutBucketPolicy',
        action: 's3:PutBucketPolicy',
        input: { Bucket: evidence.name, ExpectedBucketOwner: evidence.accountId, Policy: policy },
      },
    ],
    keeps: [
      ...(text === undefined
        ? ['the bucket has no policy: the new one holds this statement only']
        : ['every existing statement, unchanged and in order', 'the policy Version and Id']),
      'ConfirmRemoveSelfBucketAccess is never set: the caller keeps its access',
    ],
  };
}

/**
 * SSE-C blocked by the default encryption configuration (remediation.md §2.1): the rule as
 * read with `BlockedEncryptionTypes: SSE-C` added; its algorithm, KMS key and Bucket Key are
 * carried forward, since PutBucketEncryption replaces the whole configuration.
 */
function sseCFix(finding: Finding, evidence: BucketEvidence): BucketFix | string {
  const probe = evidence.encryption;
  if (!isOk(probe))
    return `the default encryption was not read (${'absent' in probe ? probe.absent : 'denied' in probe ? probe.denied : probe.error}); PutBucketEncryption replaces it whole`;
  const rules = probe.ok.Rules;
  if (rules.length !== 1)
    return `the default encryption holds ${rules.length} rules; s3scan carries forward exactly one`;
  const rule = rules[0] as ServerSideEncryptionRule;
  const blocked = rule.BlockedEncryptionTypes?.EncryptionType ?? [];
  const after: ServerSideEncryptionRule = {
    ...rule,
    BlockedEncryptionTypes: { EncryptionType: [...new Set([...blocked, 'SSE-C'])] },
  };
  const algorithm = rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? 'AES256';
  const key = rule.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID;
  return {
    bucket: evidence.name,
    account: evidence.accountId,
    region: evidence.region,
    rule: 's3-bucket-sse-c-blocked',
    fingerprint: finding.fingerprint,
    setting: FIXABLE_RULES['s3-bucket-sse-c-blocked'],
    before: { Rules: rules },
    after: { Rules: [after] },
    change: 'sets BlockedEncryptionTypes to SSE-C: S3 refuses uploads with customer-provided keys',
    calls: [
      {
        api: 'PutBucketEncryption',
        action: 's3:PutEncryptionConfiguration',
        input: {
          Bucket: evidence.name,
          ExpectedBucketOwner: evidence.accountId,
          ServerSideEncryptionConfiguration: { Rules: [after] },
        },
      },
    ],
    keeps: [
      `the default algorithm ${algorithm}${key ? ` and KMS key ${key}` : ''}`,
      `BucketKeyEnabled ${rule.BucketKeyEnabled === true ? 'true' : 'false'}`,
      ...(blocked.length > 0 ? [`the types already blocked: ${blocked.join(', ')}`] : []),
    ],
  };
}

/** The rotation period a fix turns on: KMS's default (remediation.md §2.5: 90 to 2560 days). */
export const ROTATION_PERIOD_DAYS = 365;

/**
 * Automatic rotation of the bucket's default key (remediation.md §2.5): EnableKeyRotation
 * on the key, in its own account. Refused for what KMS refuses: a key of another account, a
 * key that cannot rotate (asymmetric, HMAC, imported, custom key store), a key pending
 * deletion.
 */
function rotationFix(
  finding: Finding,
  evidence: Pick<BucketEvidenceFile, 'bucket' | 'kmsKeys'>,
): BucketFix | string {
  const { bucket } = evidence;
  const key = bucket.defaultKmsKeyRef ? evidence.kmsKeys[bucket.defaultKmsKeyRef] : undefined;
  if (!key || !isOk(key.describe)) return 'the scan holds no description of the default key';
  const metadata = key.describe.ok;
  const keyArn = metadata.Arn ?? key.ref;
  const owner = keyArn.split(':')[4];
  if (owner !== bucket.accountId)
    return `the key ${keyArn} is in account ${owner}: only that account can turn its rotation on`;
  if (
    key.rotation &&
    'error' in key.rotation &&
    key.rotation.error === 'UnsupportedOperationException'
  )
    return `the key ${keyArn} cannot rotate automatically (${metadata.KeySpec ?? 'its key spec'}, origin ${metadata.Origin ?? 'unknown'}): point the default encryption at a symmetric customer managed key instead`;
  if (metadata.KeyState === 'PendingDeletion')
    return `the key ${keyArn} is pending deletion: cancel the deletion first`;
  const before = key.rotation && isOk(key.rotation) ? key.rotation.ok : null;
  return {
    bucket: bucket.name,
    account: bucket.accountId,
    region: bucket.region,
    rule: 's3-bucket-kms-key-rotation',
    fingerprint: finding.fingerprint,
    setting: FIXABLE_RULES['s3-bucket-kms-key-rotation'],
    before: { KeyId: keyArn, ...(before ?? { KeyRotationEnabled: false }) },
    after: {
      KeyId: keyArn,
      KeyRotationEnabled: true,
      RotationPeriodInDays: ROTATION_PERIOD_DAYS,
    },
    change: `turns on automatic rotation of the default key every ${ROTATION_PERIOD_DAYS} days`,
    calls: [
      {
        api: 'EnableKeyRotation',
        action: 'kms:EnableKeyRotation',
        input: { KeyId: keyArn, RotationPeriodInDays: ROTATION_PERIOD_DAYS },
      },
    ],
    keeps: [
      'the key and its policy: objects under it stay readable (rotation keeps every earlier key material and re-encrypts nothing)',
      "the bucket's default encryption",
    ],
  };
}
