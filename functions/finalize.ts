import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AwsClients } from '../lib/collect/clients.js';
import type { ReportStore } from '../lib/report-store/types.js';
import type { WorkArea } from '../lib/report-store/work-area.js';
import { finishScan } from '../lib/step-functions/finish-scan.js';
import type { MemberClients } from '../lib/step-functions/scan-bucket.js';
import { SCAN_ID_FIELD } from '../lib/validation/fields.js';
import { type AlertDependencies, alertAfterPublish } from './common/alerts.js';
import {
  clientsFromEnv,
  logger,
  memberClientsFromEnv,
  metrics,
  storeFromEnv,
  validator,
  workFromEnv,
} from './common/env.js';
import { lambdaStack } from './common/stack.js';

export const parseFinalizeInput = validator(
  {
    type: 'object',
    required: ['scanId'],
    properties: { scanId: SCAN_ID_FIELD },
  },
  'finalize',
);

/** Assembles the evidence, evaluates and publishes the report (index.json last). */
export async function finalize(
  event: unknown,
  deps: {
    clients: () => AwsClients;
    memberClients?: MemberClients;
    work: (scanId: string) => WorkArea;
    store: () => ReportStore;
    alerts?: AlertDependencies;
  },
) {
  const { scanId } = parseFinalizeInput(event);
  const clients = deps.clients();
  try {
    const store = deps.store();
    const result = await finishScan({
      clients,
      memberClients: deps.memberClients,
      work: deps.work(scanId),
      store,
    });
    metrics.addMetric('BucketsScanned', MetricUnit.Count, result.summary.buckets);
    metrics.addMetric('FailedBuckets', MetricUnit.Count, result.failedBuckets.length);
    logger.info('scan published', {
      scanId: result.scanId,
      ...(result.scanId !== scanId ? { retryOf: scanId } : {}),
      report: result.report,
      failedBuckets: result.failedBuckets,
    });
    // index.json is published; only now the alerts. A retried finalize finds the scan stored
    // and the ledger says what was already sent.
    const alerts = await alertAfterPublish(store, result.scanId, result.config, deps.alerts);
    return {
      // The stored id: a new one when an earlier attempt left files under the plan's id.
      scanId: result.scanId,
      report: result.report,
      byStatus: result.summary.byStatus,
      failedBuckets: result.failedBuckets,
      alerts,
    };
  } finally {
    clients.destroy();
  }
}

export const handler = lambdaStack({ metrics: true }).handler((event) =>
  finalize(event, {
    clients: clientsFromEnv,
    memberClients: memberClientsFromEnv,
    work: workFromEnv,
    store: storeFromEnv,
  }),
);
