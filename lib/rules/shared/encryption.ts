import type { BucketContext, RuleOutcome } from '../../engine/types.js';
import { isAwsManagedS3Alias } from '../../evidence/kms.js';
import { probeFailure } from '../../evidence/probe.js';
import type { KmsKeyEvidence, ServerSideEncryptionRule } from '../../evidence/types.js';

/** How a bucket encrypts new objects by default, as far as the evidence tells. */
export type DefaultEncryption =
  | { kind: 'failed'; reason: string }
  | { kind: 'sse-s3'; assumedFrom?: string }
  | {
      kind: 'kms';
      algorithm: string;
      /** KMSMasterKeyID as configured, or undefined for the AWS managed `aws/s3` key. */
      keyId?: string;
      awsManagedKey: boolean;
      bucketKeyEnabled: boolean;
    }
  | { kind: 'unknown-type'; algorithm: string }
  | { kind: 'none' };

const KMS_ALGORITHMS = new Set(['aws:kms', 'aws:kms:dsse']);

/** The first rule that sets a default algorithm; in practice S3 returns exactly one rule. */
function defaultRule(rules: ServerSideEncryptionRule[]): ServerSideEncryptionRule | undefined {
  return rules.find((r) => r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm) ?? rules[0];
}

const classified = new WeakMap<object, DefaultEncryption>();

/** Classifies the bucket's default encryption. DSSE-KMS counts as KMS everywhere. */
export function defaultEncryption(context: BucketContext): DefaultEncryption {
  // Several rules ask for the same bucket; evidence is immutable during evaluation.
  let result = classified.get(context.bucket.encryption);
  if (!result) {
    result = classify(context);
    classified.set(context.bucket.encryption, result);
  }
  return result;
}

function classify(context: BucketContext): DefaultEncryption {
  const probe = context.bucket.encryption;
  if ('absent' in probe) {
    // ServerSideEncryptionConfigurationNotFoundError: pre-2023 answer; S3 applies SSE-S3 now.
    return { kind: 'sse-s3', assumedFrom: probe.absent };
  }
  if (!('ok' in probe)) return { kind: 'failed', reason: probeFailure(probe) ?? 'unknown' };
  const rule = defaultRule(probe.ok.Rules ?? []);
  const algorithm = rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
  if (!rule || !algorithm) return { kind: 'none' };
  if (algorithm === 'AES256') return { kind: 'sse-s3' };
  if (KMS_ALGORITHMS.has(algorithm)) {
    const keyId = rule.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID || undefined;
    return {
      kind: 'kms',
      algorithm,
      ...(keyId ? { keyId } : {}),
      // aws:kms without a key id means the AWS managed key aws/s3.
      awsManagedKey: keyId === undefined || isAwsManagedS3Alias(keyId),
      bucketKeyEnabled: rule.BucketKeyEnabled === true,
    };
  }
  return { kind: 'unknown-type', algorithm };
}

/** Whether `BlockedEncryptionTypes` blocks SSE-C, or the reason it cannot be told. */
export function sseCBlockedByBucket(
  context: Pick<BucketContext, 'bucket'>,
): boolean | { failed: string } {
  const probe = context.bucket.encryption;
  if ('absent' in probe) return false;
  if (!('ok' in probe)) return { failed: probeFailure(probe) ?? 'unknown' };
  return (probe.ok.Rules ?? []).some((r) =>
    (r.BlockedEncryptionTypes?.EncryptionType ?? []).includes('SSE-C'),
  );
}

/** The KMS facts recorded for the bucket's default key, if any were collected. */
export function defaultKeyEvidence(context: BucketContext): KmsKeyEvidence | undefined {
  const ref = context.bucket.defaultKmsKeyRef;
  return ref ? context.kmsKeys[ref] : undefined;
}

/** The account that owns a key, from its ARN or from DescribeKey. */
export function keyAccount(context: BucketContext, keyId: string): string | undefined {
  const fromArn = /^arn:[^:]+:kms:[^:]*:(\d{12}):/.exec(keyId)?.[1];
  if (fromArn) return fromArn;
  const evidence = defaultKeyEvidence(context);
  if (evidence && 'ok' in evidence.describe) return evidence.describe.ok.AWSAccountId;
  const fromRef = /^arn:[^:]+:kms:[^:]*:(\d{12}):/.exec(context.bucket.defaultKmsKeyRef ?? '')?.[1];
  return fromRef;
}

/** A KMS default encryption, as {@link defaultEncryption} classifies it. */
export type KmsDefault = Extract<DefaultEncryption, { kind: 'kms' }>;

/**
 * The bucket's KMS default encryption, or the outcome a KMS rule gives instead: ERROR when
 * GetBucketEncryption could not be read, SKIPPED (saying `notKms`) when the default is not KMS.
 */
export function kmsDefault(
  context: BucketContext,
  notKms = 'does not use a KMS key by default',
): KmsDefault | RuleOutcome {
  const encryption = defaultEncryption(context);
  const name = context.bucket.name;
  if (encryption.kind === 'failed') {
    return {
      status: 'ERROR',
      message: `Could not read the default encryption of bucket ${name}: ${encryption.reason}.`,
    };
  }
  if (encryption.kind !== 'kms') return { status: 'SKIPPED', message: `Bucket ${name} ${notKms}.` };
  return encryption;
}

/**
 * The bucket's KMS default under a customer managed key, or the outcome a KMS rule gives
 * instead: as {@link kmsDefault}, and `awsManaged` when the default is the AWS managed aws/s3.
 */
export function customerKmsDefault(
  context: BucketContext,
  awsManaged: (encryption: KmsDefault) => RuleOutcome,
): KmsDefault | RuleOutcome {
  const encryption = kmsDefault(context);
  if ('status' in encryption) return encryption;
  return encryption.awsManagedKey ? awsManaged(encryption) : encryption;
}
