import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AwsClients } from '../lib/collect/clients.js';
import { type CollectResult, isScanCheckpoint } from '../lib/collect/scan.js';
import { defaultConfig, type LoadedConfig, type ScanSettings } from '../lib/config/config.js';
import type { Finding } from '../lib/engine/types.js';
import { ConfigError, NoCheckpointError } from '../lib/errors.js';
import { workAreaCheckpoints } from '../lib/report-store/checkpoints.js';
import { newScanId } from '../lib/report-store/scan-id.js';
import type { ReportStore, ScanSummaryFile } from '../lib/report-store/types.js';
import type { WorkArea } from '../lib/report-store/work-area.js';
import { checkObjectMode, objectAccessOf, objectRequestOf } from '../lib/scan/object-modes.js';
import { resumeScan, runScan, type ScanOutcome, type ScanPorts } from '../lib/scan/run-scan.js';
import { type AlertDependencies, type AlertsAnswer, alertAfterPublish } from './common/alerts.js';
import {
  clientsFromEnv,
  deployedConfigFromEnv,
  intFromEnv,
  logger,
  metrics,
  SCAN_TARGET_PROPERTIES,
  stackEnv,
  storeFromEnv,
  validator,
  workFromEnv,
} from './common/env.js';
import { lambdaStack } from './common/stack.js';

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
  summary: ScanSummaryFile;
  /** FAIL and ERROR findings, at most `MAX_FINDINGS_IN_RESPONSE` (Lambda responses are capped at 6 MB). */
  findings: Finding[];
  truncated: boolean;
  collection: CollectResult['stats'];
  /** What the alert sinks were sent, after the report was published. */
  alerts: AlertsAnswer;
}

const MAX_FINDINGS_IN_RESPONSE = 500;

/**
 * Validates an invoke payload; the error names every invalid field. Every field is optional
 * (`{}` scans the whole account); `resume` continues the scan an earlier invocation handed
 * over (its scan id).
 */
export const parseScanInput = validator(
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

/** The invoke payload: the type of the schema above. */
export type ScanInput = ReturnType<typeof parseScanInput>;

/** What the handler needs from outside, injectable for tests. */
export interface ScanDependencies {
  /** AWS clients with the config's retries and timeouts. */
  clients: (settings: ScanSettings, configured: { maxAttempts?: number }) => AwsClients;
  now: () => Date;
  /** The stack's default concurrency (SCAN_CONCURRENCY), when the config does not set one. */
  concurrency: number;
  /** The config of this scan: loaded and validated before anything is read or written. */
  config: () => Promise<LoadedConfig>;
  /** The report store; scans are only answered, not stored, without one. */
  store?: ReportStore;
  /** Where a checkpoint is kept between invocations (beside the reports). */
  work?: (scanId: string) => WorkArea;
  /** The alert sinks (tests inject them; by default the stack's). */
  alerts?: AlertDependencies;
}

/** Builds the production dependencies from the environment. */
export function dependenciesFromEnv(): ScanDependencies {
  const deployed =
    stackEnv.reportBucket() || stackEnv.configParameter() ? deployedConfigFromEnv() : undefined;
  return {
    clients: clientsFromEnv,
    now: () => new Date(),
    concurrency: intFromEnv('SCAN_CONCURRENCY', 16),
    config: deployed ? () => deployed.load() : async () => defaultConfig(),
    ...(stackEnv.reportBucket() ? { store: storeFromEnv(), work: workFromEnv } : {}),
  };
}

/**
 * On-demand scan: the shared scan use case (collect, evaluate with the deployed config, store),
 * answering the summary with the findings that need attention. Before the Lambda timeout the
 * scan stops at a checkpoint kept beside the reports, and the answer says how to continue
 * (`{"resume": scanId}`). An invalid config fails the invocation before any AWS read.
 */
export async function scan(
  event: unknown,
  deps: ScanDependencies,
  signal?: AbortSignal,
): Promise<ScanOutput | ScanHandover> {
  const input = parseScanInput(event);
  const config = await deps.config();
  const concurrency = config.document.scan?.concurrency ?? deps.concurrency;
  const clients = deps.clients(config.scan, { ...config.document.scan });
  const now = deps.now();
  const scanId = input.resume ?? input.scanId ?? newScanId(now);
  const work = deps.work?.(scanId);
  const ports: ScanPorts = {
    clients,
    store: deps.store,
    ...(work
      ? { staging: () => work, checkpoints: workAreaCheckpoints(work, isScanCheckpoint) }
      : {}),
    signal,
  };
  try {
    let outcome: ScanOutcome;
    if (input.resume) {
      if (!ports.checkpoints)
        throw new ConfigError(`resume: no checkpoint for scan ${scanId} (no report bucket)`);
      outcome = await resumeScan(
        { config, concurrency },
        { ...ports, checkpoints: ports.checkpoints },
      ).catch((error: unknown) => {
        if (error instanceof NoCheckpointError)
          throw new ConfigError(`resume: no checkpoint for scan ${scanId}`, { cause: error });
        throw error;
      });
    } else {
      const mode = input.objects ?? 'none';
      checkObjectMode(mode, objectAccessOf(stackEnv.objectAccess()), 'the input');
      outcome = await runScan(
        {
          scanId,
          scanTime: now,
          buckets: input.buckets ?? [],
          regions: input.regions ?? [],
          config,
          concurrency,
          ...objectRequestOf(mode, input),
        },
        ports,
      );
    }
    if (outcome.status === 'checkpointed') {
      logger.info('scan checkpointed', { scanId, progress: outcome.progress });
      return {
        scanId,
        checkpointed: true,
        next: { resume: scanId },
        message: `stopped before the Lambda timeout (${outcome.progress}); invoke again with {"resume":"${scanId}"}`,
      };
    }
    const { summary, findings, stats } = outcome;
    const attention = findings.filter((f) => f.status === 'FAIL' || f.status === 'ERROR');
    metrics.addMetric('BucketsScanned', MetricUnit.Count, summary.buckets);
    metrics.addMetric('FailedFindings', MetricUnit.Count, summary.byStatus.FAIL);
    metrics.addMetric('ErrorFindings', MetricUnit.Count, summary.byStatus.ERROR);
    logger.info('scan finished', {
      scanId: summary.scanId,
      ...(summary.retryOf ? { retryOf: summary.retryOf } : {}),
      byStatus: summary.byStatus,
      collection: stats,
      config: summary.config,
    });
    // Alerts need a stored scan (the drift compares stored scans, the ledger lives beside it).
    const alerts =
      deps.store && outcome.report
        ? await alertAfterPublish(deps.store, summary.scanId, config, deps.alerts)
        : ({ status: 'off' } as const);
    return {
      // The stored id: a new one when an earlier invocation left files under this scan's id.
      scanId: summary.scanId,
      ...(outcome.report ? { report: outcome.report } : {}),
      summary,
      findings: attention.slice(0, MAX_FINDINGS_IN_RESPONSE),
      truncated: attention.length > MAX_FINDINGS_IN_RESPONSE,
      collection: stats,
      alerts,
    };
  } finally {
    clients.destroy();
  }
}

let deps: ScanDependencies | undefined;

/** The Lambda entry point (middy, with Powertools logging and metrics). */
export const handler = lambdaStack<unknown, ScanOutput | ScanHandover>({
  metrics: 'cold-start',
  timeoutEarlyInMillis: 10_000,
}).handler(async (event, _context, { signal }) => {
  deps ??= dependenciesFromEnv();
  return scan(event, deps, signal);
});
