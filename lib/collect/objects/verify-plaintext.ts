import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectScanEvidence } from '../../evidence/types.js';
import type { Limiter } from '../buckets.js';
import { abortOption } from '../probe.js';
import { MAX_EXAMPLES } from './aggregate.js';
import { classifyHead } from './classify.js';

/**
 * S3 Inventory has no user metadata, so an object encrypted only client-side (S3 Encryption
 * Client, written before 2023 to a bucket without a default) reads as NOT-SSE there. HEAD
 * shows its markers: the current-version plaintext examples (at most 100, all of them when
 * the bucket has no more) are HEADed, and those carrying markers move to `CLIENT-SIDE`.
 * A HEAD that fails leaves the object where the inventory put it.
 */
export async function verifyInventoryPlaintext(options: {
  s3: S3Client;
  bucket: string;
  owner: string;
  evidence: ObjectScanEvidence;
  limit: Limiter;
  signal?: AbortSignal;
}): Promise<ObjectScanEvidence> {
  const plaintext = options.evidence.byEncryption.NONE;
  if (!plaintext || plaintext.examples.length === 0) return options.evidence;
  const checks = await Promise.all(
    plaintext.examples.map(async (key) => {
      try {
        const output = await options.limit(() =>
          options.s3.send(
            new HeadObjectCommand({
              Bucket: options.bucket,
              Key: key,
              ExpectedBucketOwner: options.owner,
            }),
            abortOption(options.signal),
          ),
        );
        const outcome = classifyHead(output);
        return {
          key,
          clientSide: outcome.kind === 'classified' && outcome.type === 'CLIENT-SIDE',
          size: output.ContentLength ?? 0,
          failed: false,
        };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        return { key, clientSide: false, size: 0, failed: true };
      }
    }),
  );
  const moved = checks.filter((c) => c.clientSide);
  const evidence = structuredClone(options.evidence);
  const none = evidence.byEncryption.NONE!;
  if (moved.length > 0) {
    const movedKeys = new Set(moved.map((c) => c.key));
    const movedBytes = moved.reduce((sum, c) => sum + c.size, 0);
    none.count -= moved.length;
    none.bytes = Math.max(0, none.bytes - movedBytes);
    none.examples = none.examples.filter((key) => !movedKeys.has(key));
    if (none.count === 0) delete evidence.byEncryption.NONE;
    const target = evidence.byEncryption['CLIENT-SIDE'] ?? { count: 0, bytes: 0, examples: [] };
    evidence.byEncryption['CLIENT-SIDE'] = target;
    target.count += moved.length;
    target.bytes += movedBytes;
    target.examples.push(
      ...moved.map((c) => c.key).slice(0, MAX_EXAMPLES - target.examples.length),
    );
  }
  evidence.plaintextVerified = {
    headed: checks.length,
    clientSide: moved.length,
    failed: checks.filter((c) => c.failed).length,
    unverified: plaintext.count - checks.length,
  };
  return evidence;
}
