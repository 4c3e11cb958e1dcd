import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../lib/collect/clients.js';
import { type CollectResult, collectEvidence } from '../lib/collect/scan.js';
import {
  DEFAULT_EVALUATION_CONFIG,
  type EvaluationSummary,
  evaluate,
} from '../lib/engine/evaluate.js';
import type { Finding } from '../lib/engine/types.js';
import type { ReportStore } from '../lib/report-store/types.js';
import {
  clientsFromEnv,
  intFromEnv,
  logger,
  metrics,
  SCAN_TARGET_PROPERTIES,
  storeFromEnv,
  validator,
} from './common/env.js';

/** The invoke payload: every field optional; `{}` scans the whole account. */
export interface ScanInput {
  buckets?: string[];
  regions?: string[];
  objects?: 'none';
  scanId?: string;
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
      objects: { enum: ['none'] },
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
}

/** Builds the production dependencies from the environment. */
export function dependenciesFromEnv(): ScanDependencies {
  return {
    clients: clientsFromEnv,
    now: () => new Date(),
    concurrency: intFromEnv('SCAN_CONCURRENCY', 16),
    ...(process.env.REPORT_BUCKET ? { store: storeFromEnv() } : {}),
  };
}

/**
 * On-demand bucket-level scan: collect, evaluate, and answer the summary with the findings
 * that need attention. The invocation is aborted before the Lambda timeout rather than killed.
 */
export async function scan(
  event: unknown,
  deps: ScanDependencies,
  signal?: AbortSignal,
): Promise<ScanOutput> {
  const input = parseScanInput(event);
  const now = deps.now();
  const scanId =
    input.scanId ??
    `${now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-lambda`;
  const clients = deps.clients();
  try {
    const { evidence, stats } = await collectEvidence({
      clients,
      concurrency: deps.concurrency,
      scanId,
      scanTime: now,
      toolVersion: '0.1.0',
      buckets: input.buckets ?? [],
      regions: input.regions ?? [],
      ...(signal ? { signal } : {}),
    });
    const { findings, summary } = evaluate(evidence, DEFAULT_EVALUATION_CONFIG);
    const report = await deps.store?.writeScan({
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

let deps: ScanDependencies | undefined;

/** The Lambda entry point (middy, with Powertools logging and metrics). */
export const handler = middy<unknown, ScanOutput, Error, Context>({ timeoutEarlyInMillis: 10_000 })
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(async (event, _context, { signal }) => {
    deps ??= dependenciesFromEnv();
    return scan(event, deps, signal);
  });
