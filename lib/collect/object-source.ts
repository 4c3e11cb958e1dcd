import pLimit from 'p-limit';
import { errorCode } from '../aws/errors.js';
import { InventoryUnavailableError } from '../errors.js';
import type { BucketEvidence } from '../evidence/types.js';
import type { ObjectSink } from '../report-store/object-sink.js';
import type { Limiter } from './buckets.js';
import type { AwsClients } from './clients.js';
import { canonicalKeyRef } from './kms.js';
import { ObjectAggregator } from './objects/aggregate.js';
import { findInventory, readInventory } from './objects/inventory.js';
import {
  type SweepCheckpoint,
  type SweepProgress,
  type SweepResult,
  sweepBucket,
} from './objects/sweep.js';
import { verifyInventoryPlaintext } from './objects/verify-plaintext.js';
import type { ObjectScanOptions } from './options.js';

/**
 * Sweeps the objects of the listed buckets (a few buckets at a time, calls bounded by the
 * shared limiter), storing the aggregates on each bucket's evidence. Object KMS key ids become
 * canonical ARNs so they meet the key facts collected once per key. Returns the sweeps an
 * abort left unfinished.
 */
export async function sweepObjects(request: {
  scanTime: Date;
  buckets: BucketEvidence[];
  /** Where each bucket's sweep stands: not started, or a sweep checkpoint to resume. */
  sweeps: Record<string, SweepCheckpoint | 'pending'>;
  objects: ObjectScanOptions;
  clients: AwsClients;
  limit: Limiter;
  signal?: AbortSignal | undefined;
  /** How far each bucket's objects have come; `done` once its object evidence is complete. */
  onProgress?: (bucket: string, progress: SweepProgress & { done: boolean }) => void;
}): Promise<Record<string, SweepCheckpoint | 'pending'>> {
  const { scanTime, buckets, sweeps, objects, clients, limit, signal, onProgress } = request;
  const bucketLimit = pLimit(objects.bucketConcurrency ?? 4);
  const left: Record<string, SweepCheckpoint | 'pending'> = {};
  await Promise.all(
    buckets
      .filter((bucket) => sweeps[bucket.name] !== undefined)
      .map((bucket) =>
        bucketLimit(async () => {
          const state = sweeps[bucket.name]!;
          if (signal?.aborted) {
            left[bucket.name] = state;
            return;
          }
          const sink = objects.sinkFor?.(bucket);
          try {
            const result = await objectEvidenceOf({
              bucket,
              state,
              objects,
              clients,
              limit,
              signal,
              sink,
              scanTime,
              ...(onProgress
                ? {
                    onProgress: (p: SweepProgress) =>
                      onProgress(bucket.name, { ...p, done: false }),
                  }
                : {}),
            });
            if ('checkpoint' in result) {
              left[bucket.name] = result.checkpoint;
              return;
            }
            const byKmsKey: typeof result.evidence.byKmsKey = {};
            for (const [keyId, tally] of Object.entries(result.evidence.byKmsKey)) {
              byKmsKey[canonicalKeyRef(keyId, bucket) ?? keyId] = tally;
            }
            bucket.objects = { ...result.evidence, byKmsKey };
            onProgress?.(bucket.name, {
              listed: result.evidence.listed,
              classified: result.evidence.classified,
              done: true,
            });
          } catch (error) {
            // A sample sweep aborted mid-way starts again on resume; anything else is a failure.
            if (!signal?.aborted) throw error;
            left[bucket.name] = state;
          } finally {
            await sink?.close();
          }
        }),
      ),
  );
  return left;
}

/**
 * The one place that chooses where a bucket's object evidence comes from: S3 Inventory for
 * `inventory` (or `auto` with a fresh delivery), else a HEAD sweep (`full`, or a `sample`, and
 * `auto`'s fallback, which records why the inventory could not be used).
 */
async function objectEvidenceOf(request: {
  bucket: BucketEvidence;
  state: SweepCheckpoint | 'pending';
  objects: ObjectScanOptions;
  clients: AwsClients;
  limit: Limiter;
  signal: AbortSignal | undefined;
  sink: ObjectSink | undefined;
  scanTime: Date;
  onProgress?: (progress: SweepProgress) => void;
}): Promise<SweepResult> {
  const { bucket, state, objects, clients, limit, signal, sink, scanTime } = request;
  let fallback: string | undefined;
  if (objects.mode === 'inventory' || objects.mode === 'auto') {
    try {
      const configurations =
        bucket.inventoryConfigurations && 'ok' in bucket.inventoryConfigurations
          ? bucket.inventoryConfigurations.ok
          : [];
      const choice = await findInventory({
        s3ForBucket: () => clients.s3(bucket.region),
        bucket: bucket.name,
        configurations,
        versions: objects.versions,
        scanTime,
        maxAgeDays: objects.maxInventoryAgeDays ?? 8,
        limit,
        ...(signal ? { signal } : {}),
      });
      const inventory = await readInventory({
        s3: clients.s3(bucket.region),
        choice,
        limit,
        ...(signal ? { signal } : {}),
      });
      return {
        evidence: await verifyInventoryPlaintext({
          s3: clients.s3(bucket.region),
          bucket: bucket.name,
          owner: bucket.accountId,
          evidence: inventory,
          limit,
          ...(signal ? { signal } : {}),
        }),
      };
    } catch (error) {
      if (signal?.aborted) throw error;
      await sink?.discard();
      const reason =
        error instanceof InventoryUnavailableError
          ? error
          : new InventoryUnavailableError(errorCode(error), String((error as Error).message), {
              cause: error,
            });
      if (objects.mode === 'inventory') {
        const empty = new ObjectAggregator('inventory', objects.versions);
        empty.listFailed(reason.code, reason.message);
        return { evidence: empty.result(false) };
      }
      fallback = `${reason.code}: ${reason.message}`;
    }
  }
  const result = await sweepBucket({
    s3: clients.s3(bucket.region),
    bucket: bucket.name,
    owner: bucket.accountId,
    mode: objects.mode === 'full' ? 'full' : 'sample',
    versions: objects.versions,
    sampleSize: objects.sampleSize,
    ...(objects.prefixConcurrency !== undefined
      ? { prefixConcurrency: objects.prefixConcurrency }
      : {}),
    ...(objects.headTransport !== undefined ? { headTransport: objects.headTransport } : {}),
    limit,
    ...(state !== 'pending' ? { resume: state } : {}),
    ...(signal ? { signal } : {}),
    ...(sink ? { onObject: sink.write, whenWritten: sink.ready } : {}),
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
  });
  return 'evidence' in result && fallback
    ? { evidence: { ...result.evidence, inventoryUnavailable: fallback } }
    : result;
}
