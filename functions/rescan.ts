import { MetricUnit } from '@aws-lambda-powertools/metrics';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context } from 'aws-lambda';
import { callerIdentity, stsClient } from '../lib/collect/assume-role.js';
import type { AwsClients } from '../lib/collect/clients.js';
import { memberAccess } from '../lib/collect/member-access.js';
import type { LoadedConfig } from '../lib/config/config.js';
import { ConfigError } from '../lib/errors.js';
import { coalesce, readEvents } from '../lib/events/cloudtrail.js';
import { newScanId } from '../lib/report-store/scan-id.js';
import type { ReportStore } from '../lib/report-store/types.js';
import { runRescan } from '../lib/scan/rescan.js';
import { type AlertDependencies, alertAfterPublish } from './common/alerts.js';
import {
  clientsFromEnv,
  deployedConfigFromEnv,
  logger,
  metrics,
  region,
  stackEnv,
  storeFromEnv,
} from './common/env.js';
import { lambdaStack } from './common/stack.js';

/** What the middleware turns into `batchItemFailures`: one settled result per SQS record. */
type Settled = PromiseSettledResult<unknown>;

/**
 * The rescan function on the posture-event queue. One batch (up to its batching window) is
 * read whole: malformed messages are rejected (after maxReceiveCount they rest in the
 * dead-letter queue, never a retry loop); the rest are coalesced into one rescan per bucket
 * and per key, re-read live, stored as a scoped scan and alerted for those buckets only. If the
 * rescan fails, every message that asked for it is rejected and comes back; messages that only
 * held events to drop succeed.
 */
export async function rescan(
  event: unknown,
  deps: {
    clients: () => AwsClients;
    store: () => ReportStore;
    config: () => Promise<LoadedConfig>;
    /** The account the clients read (the report bucket's owner). */
    accountId: string;
    now: () => Date;
    /** Member accounts' buckets through their role, when the stack scans an organisation. */
    members?: (scanId: string) => Promise<Parameters<typeof runRescan>[1]['members']>;
    alerts?: AlertDependencies;
  },
): Promise<Settled[]> {
  const records = (event as { Records?: unknown[] } | null)?.Records;
  if (!Array.isArray(records))
    throw new ConfigError('the rescan function takes an SQS batch ({"Records": [...]})');
  const messages = readEvents(event);
  const dropped = messages.flatMap((m) => m.dropped);
  const malformed = messages.filter((m) => m.malformed).length;
  metrics.addMetric('EventsDropped', MetricUnit.Count, dropped.length);
  metrics.addMetric('EventsMalformed', MetricUnit.Count, malformed);
  const targets = coalesce(messages.flatMap((m) => m.changes));
  let failure: Error | undefined;
  if (targets.buckets.length + targets.keys.length > 0) {
    const clients = deps.clients();
    try {
      const config = await deps.config();
      const now = deps.now();
      const store = deps.store();
      const scanId = newScanId(now);
      const members = await deps.members?.(scanId);
      const outcome = await runRescan(
        { targets, config, scanId, scanTime: now, accountId: deps.accountId },
        { clients, store, members },
      );
      metrics.addMetric('BucketsRescanned', MetricUnit.Count, outcome.buckets.length);
      logger.info('rescanned', {
        buckets: outcome.buckets,
        keys: outcome.keys,
        skipped: outcome.skipped,
        dropped: dropped.length,
        malformed,
        ...(outcome.scan ? { scanId: outcome.scan.scanId } : {}),
      });
      if (outcome.scan) await alertAfterPublish(store, outcome.scan.scanId, config, deps.alerts);
    } catch (error) {
      failure = error as Error;
      logger.error('rescan failed; its messages will come back', { error: failure.message });
    } finally {
      clients.destroy();
    }
  }
  return messages.map((m): Settled => {
    if (m.malformed) return { status: 'rejected', reason: new ConfigError(m.malformed) };
    if (failure && m.changes.length > 0) return { status: 'rejected', reason: failure };
    return { status: 'fulfilled', value: { changes: m.changes.length, dropped: m.dropped.length } };
  });
}

const batchHandler = lambdaStack({ metrics: true })
  .use(
    sqsPartialBatchFailure({
      logger: (reason: unknown) =>
        logger.warn('message rejected', {
          reason: String((reason as Error)?.message ?? reason),
        }),
    }),
  )
  .handler((event) =>
    rescan(event, {
      clients: clientsFromEnv,
      store: storeFromEnv,
      config: () => deployedConfigFromEnv().load(),
      accountId: stackEnv.reportBucketOwner(),
      now: () => new Date(),
      members: membersFromEnv,
    }),
  );

/**
 * With SCAN_ACCOUNTS set (the stack scans an organisation), member accounts' buckets are
 * rescanned through MEMBER_ROLE_NAME; else their events are set aside with the reason.
 */
let sts: ReturnType<typeof stsClient> | undefined;
async function membersFromEnv(scanId: string) {
  if (!stackEnv.scanAccounts()) return undefined;
  // One STS client per container: a client per invocation would leave its sockets behind.
  sts ??= stsClient(region());
  return memberAccess({
    sts,
    own: await callerIdentity(sts),
    role: stackEnv.memberRole(),
    scanId,
    region: region(),
    clients: { maxAttempts: 10 },
  });
}

/**
 * The Lambda entry point. What is not an SQS batch is refused before the partial-batch
 * middleware, which would otherwise answer it with an empty failure list, as if all went well.
 */
export const handler = async (event: unknown, context: Context): Promise<unknown> => {
  if (!Array.isArray((event as { Records?: unknown } | null)?.Records))
    throw new ConfigError('the rescan function takes an SQS batch ({"Records": [...]})');
  return batchHandler(event, context);
};
