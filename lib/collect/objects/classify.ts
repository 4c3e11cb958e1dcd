import { errorCode, httpStatus } from '../../aws/errors.js';
import type { ObjectObservation } from '../../evidence/object-observation.js';
import type { ObjectEncryptionType } from '../../evidence/types.js';

/** The parts of HeadObject's output classification reads. */
export interface HeadOutputLike {
  ServerSideEncryption?: string;
  SSEKMSKeyId?: string;
  BucketKeyEnabled?: boolean;
  SSECustomerAlgorithm?: string;
  Metadata?: Record<string, string>;
  StorageClass?: string;
  ContentLength?: number;
  LastModified?: Date;
  DeleteMarker?: boolean;
}

const TYPES: Record<string, ObjectEncryptionType> = {
  AES256: 'SSE-S3',
  'aws:kms': 'SSE-KMS',
  'aws:kms:dsse': 'DSSE-KMS',
};

/**
 * The S3 Encryption Client format from user metadata (lower-case keys, no `x-amz-meta-`):
 * V1 `x-amz-key` + `x-amz-iv`, V2 `x-amz-key-v2` + `x-amz-iv`, V3 `x-amz-3` + `x-amz-d` + `x-amz-i`.
 * A V3 object whose metadata went to an instruction file keeps only `x-amz-c`, `x-amz-d` and
 * `x-amz-i`, which the V3 clients always leave on the object, so those are enough.
 */
export function clientSideFormat(
  metadata: Record<string, string> | undefined,
): 'v1' | 'v2' | 'v3' | undefined {
  if (!metadata) return undefined;
  const has = (key: string) => Object.hasOwn(metadata, key);
  if (has('x-amz-d') && has('x-amz-i') && (has('x-amz-3') || has('x-amz-c'))) return 'v3';
  if (has('x-amz-key-v2') && has('x-amz-iv')) return 'v2';
  if (has('x-amz-key') && has('x-amz-iv')) return 'v1';
  return undefined;
}

/**
 * Classifies a HeadObject answer (aws-facts.md section 1). An absent `ServerSideEncryption`
 * is a legacy unencrypted object; an unknown value (`aws:fsx`, `aws:backup`, anything newer)
 * is encrypted, unknown type, never a crash.
 */
export function classifyHead(output: HeadOutputLike): ObjectObservation['outcome'] {
  const clientSide = clientSideFormat(output.Metadata);
  if (output.SSECustomerAlgorithm) {
    return {
      kind: 'classified',
      type: 'SSE-C',
      algorithm: output.SSECustomerAlgorithm,
      ...(clientSide ? { clientSide } : {}),
    };
  }
  const algorithm = output.ServerSideEncryption;
  const serverSide = algorithm === undefined || algorithm === '' ? undefined : algorithm;
  const type: ObjectEncryptionType = serverSide
    ? (TYPES[serverSide] ?? 'UNKNOWN')
    : clientSide
      ? 'CLIENT-SIDE'
      : 'NONE';
  return {
    kind: 'classified',
    type,
    ...(algorithm ? { algorithm } : {}),
    ...(output.SSEKMSKeyId ? { kmsKeyId: output.SSEKMSKeyId } : {}),
    ...(output.BucketKeyEnabled !== undefined ? { bucketKeyEnabled: output.BucketKeyEnabled } : {}),
    ...(clientSide ? { clientSide } : {}),
  };
}

/**
 * Classifies a failed HeadObject by HTTP status, never by `err.name` (HEAD has no body, so the
 * SDK names it '400' or 'Unknown'): 400 without a key means SSE-C (likely), 403 denied,
 * 404 (current version is a delete marker) and 405 (the version is a delete marker) skipped.
 */
export function classifyHeadError(error: unknown): ObjectObservation['outcome'] {
  const status = httpStatus(error);
  if (status === 400) return { kind: 'classified', type: 'SSE-C', likely: true };
  if (status === 403) return { kind: 'denied', code: errorCode(error) };
  if (status === 404 || status === 405) return { kind: 'delete-marker' };
  return {
    kind: 'failed',
    code: errorCode(error),
    message: String((error as Error)?.message ?? error).slice(0, 300),
  };
}
