import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../lib/collect/clients.js';
import {
  type CollectResult,
  collectEvidence,
  describeCheckpoint,
  resumeCollection,
  type ScanCheckpoint,
} from '../lib/collect/scan.js';
import type { EvaluationSummary } from '../lib/engine/evaluate.js';
import type { Finding } from '../lib/engine/types.js';
import { ConfigError } from '../lib/errors.js';
import { chunkedObjectSink, objectFilesFromChunks } from '../lib/report-store/object-chunks.js';
import type { ObjectSink } from '../lib/report-store/object-sink.js';
import { newScanId } from '../lib/report-store/scan-id.js';
import type { ReportStore } from '../lib/report-store/types.js';
import type { WorkArea } from '../lib/report-store/work-area.js';
import { evaluateScan } from '../lib/scan/evaluate-scan.js';
import { TOOL_VERSION } from '../lib/version.js';
import {
  clientsFromEnv,
  intFromEnv,
  logger,
  metrics,
  SCAN_TARGET_PROPERTIES,
  storeFromEnv,
  validator,
  workFromEnv,
} from './common/env.js';

/** The invoke payload: every field optional; `{}` scans the whole account. */
export interface ScanInput {
  buckets?: string[];
  regions?: string[];
  objects?: 'none' | 'sample' | 'full' | 'inventory' | 'auto';
  versions?: boolean;
  sampleSize?: number;
  scanId?: string;
  /** Continue the scan that an earlier invocation handed over (its scan id). */
  resume?: string;
}

/** What an invoke answers when it stopped before the Lambda timeout: how to continue. */
export interface ScanHandover {
  scanId: string;
  checkpointed: true;
  /** Invoke again with this payload. */
  next: { resume: string };
  message: string;
}

/** What an invoke answers: the summary and the findings that need attention. */
export interface ScanOutput {
  scanId: string;
  /** Where the report was stored, when the function has a report bucket. */
  report?: string;
  summary: EvaluationSummary;
  /** FAIL and ERROR findings, at most `MAX_FINDINGS_IN_RESPONSE` (Lambda responses are capped at 6 MB). */
  findings: Finding[];
  truncated: boolean;
  collection: CollectResult['stats'];
}

const MAX_FINDINGS_IN_RESPONSE = 500;

/** Validates an invoke payload; the error names every invalid field. */
export const parseScanInput = validator<ScanInput>(
  {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...SCAN_TARGET_PROPERTIES,
      resume: SCAN_TARGET_PROPERTIES.scanId,
    },
  },
  'scan',
);
/** What the handler needs from outside, injectable for tests. */
export interface ScanDependencies {
  clients: () => AwsClients;
  now: () => Date;
  concurrency: number;
  /** The report store; scans are only answered, not stored, without one. */
  store?: ReportStore;
  /** Where a checkpoint is kept between invocations (beside the reports). */
  work?: (scanId: string) => WorkArea;
}

const CHECKPOINT = 'checkpoint.json';

/** Builds the production dependencies from the environment. */
export function dependenciesFromEnv(): ScanDependencies {
  return {
    clients: clientsFromEnv,
    now: () => new Date(),
    concurrency: intFromEnv('SCAN_CONCURRENCY', 16),
    ...(process.env.REPORT_BUCKET ? { store: storeFromEnv(), work: workFromEnv } : {}),
  };
}

/**
 * On-demand scan: collect, evaluate, store, and answer the summary with the findings that need
 * attention. Before the Lambda timeout an object sweep stops at a checkpoint kept beside the
 * reports, and the answer says how to continue (`{"resume": scanId}`).
 */
export async function scan(
  event: unknown,
  deps: ScanDependencies,
  signal?: AbortSignal,
): Promise<ScanOutput | ScanHandover> {
  const input = parseScanInput(event);
  const now = deps.now();
  const clients = deps.clients();
  try {
    let result: CollectResult;
    let scanId: string;
    // Where checkpoints and per-object CSV chunks are kept between invocations.
    let work: WorkArea | undefined;
    if (input.resume) {
      scanId = input.resume;
      work = deps.work?.(scanId);
      const checkpoint = await work?.get<ScanCheckpoint>(CHECKPOINT);
      if (!checkpoint) throw new ConfigError(`resume: no checkpoint for scan ${scanId}`);
      result = await resumeCollection(checkpoint, {
        clients,
        concurrency: deps.concurrency,
        ...objectSinks(work, (bucket) => {
          const state = checkpoint.sweeps[bucket];
          return state && state !== 'pending' ? state.pagesDone : 0;
        }),
        ...(signal ? { signal } : {}),
      });
    } else {
      scanId = input.scanId ?? newScanId(now);
      const mode = input.objects ?? 'none';
      work = deps.work?.(scanId);
      result = await collectEvidence({
        clients,
        concurrency: deps.concurrency,
        scanId,
        scanTime: now,
        toolVersion: TOOL_VERSION,
        buckets: input.buckets ?? [],
        regions: input.regions ?? [],
        ...(mode !== 'none'
          ? {
              objects: {
                mode,
                versions: input.versions === true,
                sampleSize: input.sampleSize ?? 100,
                ...objectSinks(work, () => 0),
              },
            }
          : {}),
        ...(signal ? { signal } : {}),
      });
    }
    if (result.checkpoint) {
      if (!work)
        throw new Error(
          `the scan was interrupted (${String((signal?.reason as Error)?.message ?? signal?.reason ?? 'aborted')}: ${describeCheckpoint(result.checkpoint)}) and there is no report bucket to keep its checkpoint in`,
        );
      await work.put(CHECKPOINT, result.checkpoint);
      logger.info('scan checkpointed', {
        scanId,
        unfinished: Object.keys(result.checkpoint.sweeps).length,
      });
      return {
        scanId,
        checkpointed: true,
        next: { resume: scanId },
        message: `stopped before the Lambda timeout (${describeCheckpoint(result.checkpoint)}); invoke again with {"resume":"${scanId}"}`,
      };
    }
    const { evidence, stats } = result;
    const { findings, summary } = evaluateScan(evidence);
    const objectFiles = work ? await objectFilesFromChunks(work, evidence.buckets) : [];
    const report = await deps.store?.writeScan({
      ...(objectFiles.length > 0 ? { objectFiles } : {}),
      summary: { schemaVersion: '1', source: 'scan', ...summary, collection: stats },
      findings,
      evidence,
    });
    const attention = findings.filter((f) => f.status === 'FAIL' || f.status === 'ERROR');
    metrics.addMetric('BucketsScanned', MetricUnit.Count, summary.buckets);
    metrics.addMetric('FailedFindings', MetricUnit.Count, summary.byStatus.FAIL);
    metrics.addMetric('ErrorFindings', MetricUnit.Count, summary.byStatus.ERROR);
    logger.info('scan finished', { scanId, byStatus: summary.byStatus, collection: stats });
    return {
      scanId,
      ...(report ? { report } : {}),
      summary,
      findings: attention.slice(0, MAX_FINDINGS_IN_RESPONSE),
      truncated: attention.length > MAX_FINDINGS_IN_RESPONSE,
      collection: stats,
    };
  } finally {
    clients.destroy();
  }
}

/**
 * Per-object CSV sinks that keep each invocation's rows as a chunk in the work area, named
 * after the listing page the bucket's sweep starts from in this invocation.
 */
function objectSinks(
  work: WorkArea | undefined,
  startPageOf: (bucket: string) => number,
): { sinkFor?: (bucket: { accountId: string; name: string }) => ObjectSink } {
  if (!work) return {};
  return { sinkFor: (bucket) => chunkedObjectSink(work, bucket, startPageOf(bucket.name)) };
}

let deps: ScanDependencies | undefined;

/** The Lambda entry point (middy, with Powertools logging and metrics). */
export const handler = middy<unknown, ScanOutput | ScanHandover, Error, Context>({
  timeoutEarlyInMillis: 10_000,
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event, _context, { signal }) => {
    deps ??= dependenciesFromEnv();
    return scan(event, deps, signal);
  });
