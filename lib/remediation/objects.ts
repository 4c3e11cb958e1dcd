import type { Finding } from '../engine/types.js';
import { isOk } from '../evidence/probe.js';
import type { BucketEvidenceFile } from '../evidence/types.js';
import { type FixFilters, selectedBy } from './filters.js';

/**
 * Object fixes (issue 26, item 4): the objects a rule found wrong, from the scan's per-object
 * list, grouped into S3 Batch Operations jobs. SSE-S3 where KMS is the default, or a KMS key
 * other than the default, is fixed in place by `S3UpdateObjectEncryption` (no copy: LastModified,
 * ETag, storage class and checksums kept; remediation.md §3.1). Objects it refuses (unencrypted,
 * DSSE-KMS) are fixed only by a copy, offered where a copy is safe and saying what it changes;
 * SSE-C objects and noncurrent versions are left to their owners, saying why.
 */

/** The object rules a plan can fix, or explain why not. */
export const OBJECT_RULES = new Set([
  's3-objects-weaker-than-default',
  's3-objects-kms-key-mismatch',
  's3-objects-unencrypted',
  's3-objects-sse-c',
  's3-object-versions-unencrypted',
]);

/** One row of a scan's per-object CSV (`objects/<account>/<bucket>.csv.gz`), keys restored. */
export interface ObjectRow {
  key: string;
  versionId: string;
  isLatest: boolean;
  size: number;
  storageClass: string;
  /** s3scan's classification: SSE-S3, SSE-KMS, DSSE-KMS, SSE-C, NONE, or empty (not seen). */
  encryption: string;
  kmsKeyId: string;
  bucketKeyEnabled: boolean;
  /** The key could not be told from a spreadsheet-neutralised one (`'=…`): left out of manifests. */
  ambiguousKey?: boolean;
}

/** A Batch Operations job a plan would create for one bucket. */
export interface ObjectJob {
  /** The job's name in the plan: `<account>.<bucket>.<n>`, its manifest's record name too. */
  id: string;
  bucket: string;
  account: string;
  region: string;
  /** The findings (rule and fingerprint) it fixes. */
  rules: { rule: string; fingerprint: string }[];
  operation: 'S3UpdateObjectEncryption' | 'S3PutObjectCopy';
  /** The encryption every object gets. */
  target: { algorithm: 'aws:kms' | 'AES256'; kmsKeyArn?: string; bucketKeyEnabled: boolean };
  /** A copy keeps the storage class only when told: one copy job per class. */
  storageClass?: string;
  objects: number;
  bytes: number;
  examples: string[];
  /** What the operation changes, and what it keeps. */
  effects: string[];
  /** Copies are created only when asked (`--copy`): they change what an update keeps. */
  needsConsent: boolean;
  /**
   * Where the job's objects come from: the scan's per-object list (a manifest s3scan writes),
   * or, when the scan sampled, S3's own listing of the bucket filtered by encryption at job
   * time (`objects` is then what the sample saw, not the whole count).
   */
  source?: {
    kind: 'generated';
    encryption: 'SSE-S3' | 'NOTSSE' | { kmsKeyArn: string };
    storageClass?: string;
    seen: number;
    of: number;
  };
}

/** Objects a plan leaves alone, and why. */
export interface ObjectsLeft {
  bucket: string;
  account: string;
  rule: string;
  reason: string;
  objects: number;
  examples: string[];
}

/** What the object part of a plan holds: the jobs, their manifests, what is left and why. */
export interface ObjectPlan {
  jobs: ObjectJob[];
  /** Per job id, the objects (key, and version where the scan listed versions). */
  manifests: Map<string, { key: string; versionId?: string }[]>;
  left: ObjectsLeft[];
}

/** Batch Copy copies up to 5 GB (remediation.md §3.2). */
export const COPY_LIMIT_BYTES = 5 * 1024 ** 3;
/** Classes a copy cannot read without a restore, or Batch Copy does not write. */
const NOT_COPYABLE = new Set(['GLACIER', 'DEEP_ARCHIVE', 'REDUCED_REDUNDANCY']);

const COPY_EFFECTS = [
  'copies every object onto itself: a new LastModified and, for KMS and multipart objects, a new ETag',
  'in a versioned bucket the copy is a new version: the plaintext version stays until a lifecycle rule or a deliberate delete removes it',
  'ACL grants are reset to private, website redirects are dropped, Object Lock settings must be set again',
  'replication may copy the new version again',
  "it runs as the role --batch-role names, which must read and write the bucket's objects: the stack's Batch role only updates encryption",
];
const UPDATE_EFFECTS = [
  'changes the encryption in place without copying data: LastModified, ETag, storage class, checksums and metadata are kept',
  'S3 refuses objects under Object Lock retention or legal hold: they are reported per object in the completion report',
];

/** The findings of object rules a plan takes: unsuppressed FAILs the filters select. */
export function objectFindingsToFix(findings: readonly Finding[], filters: FixFilters): Finding[] {
  return findings.filter(
    (f) => f.status === 'FAIL' && OBJECT_RULES.has(f.ruleId) && selectedBy(filters, f),
  );
}

/**
 * The jobs of a bucket whose objects the scan sampled (or did not all see): S3 lists the objects
 * itself when the job runs, filtered by their encryption (`MatchAnyObjectEncryption`), so the
 * job reaches every such object, the ones the sample missed and any written since.
 */
function generatedJobs(
  plan: ObjectPlan,
  evidence: Pick<BucketEvidenceFile, 'bucket' | 'kmsKeys'>,
  rules: Map<string, string>,
  target: ObjectJob['target'],
  leave: (rule: string, reason: string) => void,
): ObjectPlan {
  const { bucket } = evidence;
  const objects = bucket.objects!;
  const seenOf =
    objects.mode === 'sample' || !objects.complete
      ? `the scan classified ${objects.classified} of ${objects.listed} objects`
      : `the scan stored no per-object list, only counts`;
  const job = (
    fixes: string[],
    operation: ObjectJob['operation'],
    encryption: NonNullable<ObjectJob['source']>['encryption'],
    tally: { count: number; bytes: number; examples: string[] },
    storageClass?: string,
  ) =>
    plan.jobs.push({
      id: `${bucket.accountId}.${bucket.name}.${plan.jobs.length + 1}`,
      bucket: bucket.name,
      account: bucket.accountId,
      region: bucket.region,
      rules: fixes.map((rule) => ({ rule, fingerprint: rules.get(rule) ?? '' })),
      operation,
      target,
      ...(storageClass ? { storageClass } : {}),
      objects: tally.count,
      bytes: tally.bytes,
      examples: tally.examples.slice(0, 3),
      effects: [
        `S3 lists the bucket's ${encryption === 'SSE-S3' ? 'SSE-S3 objects' : encryption === 'NOTSSE' ? `unencrypted objects${storageClass ? ` in ${storageClass}` : ''}` : `objects under ${encryption.kmsKeyArn}`} itself when the job runs (${seenOf}; the job reaches every one, also those written since)`,
        ...(operation === 'S3UpdateObjectEncryption' ? UPDATE_EFFECTS : COPY_EFFECTS),
      ],
      needsConsent: operation === 'S3PutObjectCopy',
      source: {
        kind: 'generated',
        encryption,
        ...(storageClass ? { storageClass } : {}),
        seen: objects.classified,
        of: objects.listed,
      },
    });
  const kms = target.algorithm === 'aws:kms' && target.kmsKeyArn !== undefined;
  const sseS3 = objects.byEncryption['SSE-S3'];
  if (rules.has('s3-objects-weaker-than-default') && kms && sseS3 && sseS3.count > 0)
    job(['s3-objects-weaker-than-default'], 'S3UpdateObjectEncryption', 'SSE-S3', sseS3);
  if (rules.has('s3-objects-kms-key-mismatch') && kms)
    for (const [key, tally] of Object.entries(objects.byKmsKey))
      if (key !== target.kmsKeyArn && !target.kmsKeyArn?.endsWith(`/${key}`))
        job(['s3-objects-kms-key-mismatch'], 'S3UpdateObjectEncryption', { kmsKeyArn: key }, tally);
  const plaintext = objects.byEncryption.NONE;
  const copyRules = ['s3-objects-weaker-than-default', 's3-objects-unencrypted'].filter((r) =>
    rules.has(r),
  );
  if (copyRules.length > 0 && plaintext && plaintext.count > 0) {
    // A copy keeps the class only when told: one job per class the bucket holds.
    const classes = Object.keys(objects.byStorageClass).sort();
    for (const storageClass of classes.filter((c) => !NOT_COPYABLE.has(c)))
      job(copyRules, 'S3PutObjectCopy', 'NOTSSE', plaintext, storageClass);
    const archived = classes.filter((c) => NOT_COPYABLE.has(c));
    if (archived.length > 0)
      leave(
        copyRules[0] ?? 's3-objects-unencrypted',
        `unencrypted objects in ${archived.join(', ')}, if any: Batch Copy cannot read archived objects nor write RRS; restore them first`,
      );
  }
  if (rules.has('s3-objects-sse-c'))
    leave(
      's3-objects-sse-c',
      "encrypted with a customer-provided key s3scan never has: only the key's owner can copy them (CopySourceSSECustomer*), and Batch Copy does not take SSE-C",
    );
  return plan;
}

/** The bucket's default: the target of every fix of its objects. */
function defaultTarget(
  evidence: Pick<BucketEvidenceFile, 'bucket' | 'kmsKeys'>,
): ObjectJob['target'] | string {
  const { bucket } = evidence;
  const probe = bucket.encryption;
  // No default configuration: S3 encrypts new objects with SSE-S3 (since 2023), the target too.
  if ('absent' in probe) return { algorithm: 'AES256', bucketKeyEnabled: false };
  if (!isOk(probe)) return 'the default encryption was not read: the target of the fix is unknown';
  const rule = probe.ok.Rules[0];
  const algorithm = rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? 'AES256';
  const bucketKeyEnabled = rule?.BucketKeyEnabled === true;
  if (algorithm === 'AES256') return { algorithm: 'AES256', bucketKeyEnabled: false };
  if (algorithm !== 'aws:kms')
    return `the default is ${algorithm}: s3scan re-encrypts objects only to SSE-KMS or SSE-S3`;
  const ref = bucket.defaultKmsKeyRef;
  const key = ref ? evidence.kmsKeys[ref] : undefined;
  if (!ref || !key)
    return 'the default is the AWS managed key aws/s3: UpdateObjectEncryption needs the full ARN of a customer managed key';
  const arn = isOk(key.describe) ? key.describe.ok.Arn : undefined;
  if (!arn) return `the default key ${ref} was not described: its full ARN is unknown`;
  if (arn.split(':')[4] !== bucket.accountId)
    return `the default key ${arn} is in another account: UpdateObjectEncryption takes only the bucket owner's keys`;
  return { algorithm: 'aws:kms', kmsKeyArn: arn, bucketKeyEnabled };
}

/** Whether a row's KMS key is the target key (S3 may name it by ARN or by id). */
function underKey(row: ObjectRow, arn: string): boolean {
  return row.kmsKeyId === arn || arn.endsWith(`/${row.kmsKeyId}`);
}

interface Group {
  rows: ObjectRow[];
  rules: Map<string, string>;
}

/**
 * The jobs and the objects left of one bucket: each current object a failing rule names, in
 * the group of what fixes it (one update job; one copy job per storage class), or left with
 * the reason. An object two rules name is in one job once.
 */
export async function planBucketObjects(input: {
  findings: readonly Finding[];
  evidence: Pick<BucketEvidenceFile, 'bucket' | 'kmsKeys'>;
  rows: AsyncIterable<ObjectRow> | undefined;
}): Promise<ObjectPlan> {
  const { bucket } = input.evidence;
  const plan: ObjectPlan = { jobs: [], manifests: new Map(), left: [] };
  const leave = (rule: string, reason: string, rows: ObjectRow[] = []) =>
    plan.left.push({
      bucket: bucket.name,
      account: bucket.accountId,
      rule,
      reason,
      objects: rows.length,
      examples: rows.slice(0, 3).map((r) => r.key),
    });
  const rules = new Map(input.findings.map((f) => [f.ruleId, f.fingerprint]));
  if (rules.has('s3-object-versions-unencrypted'))
    leave(
      's3-object-versions-unencrypted',
      'noncurrent versions cannot be re-encrypted: a copy makes a new current version and UpdateObjectEncryption refuses unencrypted sources; expire them with a lifecycle rule, or delete them, once their owner agrees',
    );
  const fixable = [...rules.keys()].filter((r) => r !== 's3-object-versions-unencrypted');
  if (fixable.length === 0) return plan;
  const objects = bucket.objects;
  if (!objects) {
    for (const rule of fixable)
      leave(rule, 'the scan did not look at the objects of this bucket: rescan it with --objects');
    return plan;
  }
  const target = defaultTarget(input.evidence);
  if (typeof target === 'string') {
    for (const rule of fixable) leave(rule, target);
    return plan;
  }
  if (objects.listError) {
    for (const rule of fixable)
      leave(
        rule,
        `the scan's listing of the bucket failed (${objects.listError.code}): rescan it before fixing its objects`,
      );
    return plan;
  }
  // Without the whole list (a sample, objects unseen, or no per-object CSV stored), S3 lists.
  if (objects.mode === 'sample' || !objects.complete || !input.rows)
    return generatedJobs(plan, input.evidence, rules, target, leave);
  const update: Group = { rows: [], rules: new Map() };
  const copies = new Map<string, Group>();
  const sseC: ObjectRow[] = [];
  const ambiguous: ObjectRow[] = [];
  const tooLarge: ObjectRow[] = [];
  const archived: ObjectRow[] = [];
  const add = (group: Group, row: ObjectRow, rule: string) => {
    group.rows.push(row);
    group.rules.set(rule, rules.get(rule) ?? '');
  };
  for await (const row of input.rows) {
    if (!row.isLatest) continue;
    const wrongKey =
      rules.has('s3-objects-kms-key-mismatch') &&
      row.encryption === 'SSE-KMS' &&
      target.kmsKeyArn !== undefined &&
      row.kmsKeyId !== '' &&
      !underKey(row, target.kmsKeyArn);
    const weaker =
      rules.has('s3-objects-weaker-than-default') &&
      (row.encryption === 'NONE' ||
        (row.encryption === 'SSE-S3' && target.algorithm === 'aws:kms'));
    const plaintext = rules.has('s3-objects-unencrypted') && row.encryption === 'NONE';
    if (rules.has('s3-objects-sse-c') && row.encryption === 'SSE-C') {
      sseC.push(row);
      continue;
    }
    if (!wrongKey && !weaker && !plaintext) continue;
    if (row.ambiguousKey) {
      ambiguous.push(row);
      continue;
    }
    const rule = wrongKey
      ? 's3-objects-kms-key-mismatch'
      : weaker
        ? 's3-objects-weaker-than-default'
        : 's3-objects-unencrypted';
    if (row.encryption === 'SSE-S3' || row.encryption === 'SSE-KMS') {
      add(update, row, rule);
      // The same object may fail both rules; the job fixes it once and proves both.
      if (plaintext)
        update.rules.set('s3-objects-unencrypted', rules.get('s3-objects-unencrypted') ?? '');
      continue;
    }
    if (row.size > COPY_LIMIT_BYTES) tooLarge.push(row);
    else if (NOT_COPYABLE.has(row.storageClass)) archived.push(row);
    else {
      const group = copies.get(row.storageClass) ?? { rows: [], rules: new Map() };
      add(group, row, rule);
      if (plaintext)
        group.rules.set('s3-objects-unencrypted', rules.get('s3-objects-unencrypted') ?? '');
      copies.set(row.storageClass, group);
    }
  }
  const job = (group: Group, operation: ObjectJob['operation'], storageClass?: string) => {
    const id = `${bucket.accountId}.${bucket.name}.${plan.jobs.length + 1}`;
    plan.jobs.push({
      id,
      bucket: bucket.name,
      account: bucket.accountId,
      region: bucket.region,
      rules: [...group.rules].map(([rule, fingerprint]) => ({ rule, fingerprint })),
      operation,
      target,
      ...(storageClass ? { storageClass } : {}),
      objects: group.rows.length,
      bytes: group.rows.reduce((n, r) => n + r.size, 0),
      examples: group.rows.slice(0, 3).map((r) => r.key),
      effects: operation === 'S3UpdateObjectEncryption' ? UPDATE_EFFECTS : COPY_EFFECTS,
      needsConsent: operation === 'S3PutObjectCopy',
    });
    plan.manifests.set(
      id,
      group.rows.map((r) => ({ key: r.key, ...(r.versionId ? { versionId: r.versionId } : {}) })),
    );
  };
  if (update.rows.length > 0) {
    if (target.algorithm === 'aws:kms') job(update, 'S3UpdateObjectEncryption');
    else
      leave(
        [...update.rules.keys()][0] ?? 's3-objects-kms-key-mismatch',
        'the default is SSE-S3, and UpdateObjectEncryption cannot make SSE-S3 objects',
        update.rows,
      );
  }
  for (const [storageClass, group] of [...copies].sort(([a], [b]) => (a < b ? -1 : 1)))
    job(group, 'S3PutObjectCopy', storageClass);
  const anyRule = (name: string) => (rules.has(name) ? name : ([...rules.keys()][0] ?? name));
  if (sseC.length > 0)
    leave(
      's3-objects-sse-c',
      "encrypted with a customer-provided key s3scan never has: only the key's owner can copy them (CopySourceSSECustomer*), and Batch Copy does not take SSE-C",
      sseC,
    );
  if (ambiguous.length > 0)
    leave(
      anyRule('s3-objects-weaker-than-default'),
      "their keys start with ' and a formula character, which the scan's CSV also writes for neutralised keys: the exact key is not known",
      ambiguous,
    );
  if (tooLarge.length > 0)
    leave(
      anyRule('s3-objects-unencrypted'),
      'over 5 GB: Batch Copy refuses them; copy each with a multipart UploadPartCopy',
      tooLarge,
    );
  if (archived.length > 0)
    leave(
      anyRule('s3-objects-unencrypted'),
      'in GLACIER, DEEP_ARCHIVE or REDUCED_REDUNDANCY: restore them first (Batch Copy cannot read archived objects nor write RRS)',
      archived,
    );
  return plan;
}
