import { MetricUnit } from '@aws-lambda-powertools/metrics';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context } from 'aws-lambda';
import { awsSettings, type SettingsPort } from '../lib/aws/bucket-settings.js';
import { callerIdentity, MemberRoles, stsClient } from '../lib/collect/assume-role.js';
import { AwsClients } from '../lib/collect/clients.js';
import { memberAccess } from '../lib/collect/member-access.js';
import type { LoadedConfig } from '../lib/config/config.js';
import type { Finding } from '../lib/engine/types.js';
import { ConfigError } from '../lib/errors.js';
import { coalesce, readEvents } from '../lib/events/cloudtrail.js';
import {
  type AutoFixOutcome,
  autoFix,
  autoFixNote,
  provingRescan,
} from '../lib/remediation/auto.js';
import { newScanId } from '../lib/report-store/scan-id.js';
import type { ReportStore } from '../lib/report-store/types.js';
import { runRescan } from '../lib/scan/rescan.js';
import { type AlertDependencies, alertAfterPublish } from './common/alerts.js';
import {
  clientsFromEnv,
  deployedConfigFromEnv,
  logger,
  metrics,
  partitionOf,
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
    /**
     * The remediation role's settings port and ARN (remediation: enabled), for the config's
     * automatic fixes; absent: they can only be dry runs.
     */
    remediation?: () => Promise<{ settings: SettingsPort; by: string } | undefined>;
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
      if (outcome.scan) {
        const fixDeps = {
          accountId: deps.accountId,
          now: deps.now,
          ...(deps.alerts ? { alerts: deps.alerts } : {}),
          ...(deps.remediation ? { remediation: deps.remediation } : {}),
          clients,
          store,
          config,
        };
        // A dry run writes nothing: it is planned first, so the rescan's alert can say what it
        // would fix. A real fix follows the alert, and its proving rescan alerts the fix.
        const dryRun = config.remediation?.autoFix.dryRun === true;
        const planned = dryRun ? await autoFixAfter(outcome.scan, fixDeps) : undefined;
        await alertAfterPublish(
          store,
          outcome.scan.scanId,
          config,
          deps.alerts,
          autoFixNote(planned),
        );
        if (config.remediation && !dryRun) await autoFixAfter(outcome.scan, fixDeps);
      }
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

/**
 * The config's automatic fixes after a rescan (lib/remediation/auto.ts), written with the
 * remediation role, never the scanner's; the proving rescan alerted like any rescan. A failure
 * here is logged and counted, not retried: the rescan is stored, and the next event about the
 * bucket rescans and plans again from what the setting then is.
 */
async function autoFixAfter(
  scan: { scanId: string; findings: Finding[] },
  deps: Pick<Parameters<typeof rescan>[1], 'accountId' | 'now' | 'alerts' | 'remediation'> & {
    clients: AwsClients;
    store: ReportStore;
    config: LoadedConfig;
  },
): Promise<AutoFixOutcome | undefined> {
  const { config, store, clients } = deps;
  if (!config.remediation) return undefined;
  try {
    const role = config.remediation.autoFix.dryRun ? undefined : await deps.remediation?.();
    const auto = await autoFix(
      { rescan: scan, settings: config.remediation.autoFix, now: deps.now() },
      {
        store,
        ...(role ? { settings: role.settings } : {}),
        by: role?.by ?? 'none',
        account: deps.accountId,
        prove: provingRescan({
          clients,
          store,
          config,
          accountId: deps.accountId,
          now: deps.now,
          after: (scanId) => alertAfterPublish(store, scanId, config, deps.alerts),
        }),
      },
    );
    if (!auto) return undefined;
    const applied = auto.outcome?.results.filter((r) => r.status === 'applied').length ?? 0;
    metrics.addMetric('AutoFixesApplied', MetricUnit.Count, applied);
    logger.info('automatic fix', {
      fixId: auto.plan.fixId,
      dryRun: auto.dryRun,
      planned: auto.plan.fixes.length,
      applied,
      ...(auto.refused ? { refused: auto.refused } : {}),
      ...(auto.outcome?.rescanId ? { provenBy: auto.outcome.rescanId } : {}),
    });
    return auto;
  } catch (error) {
    metrics.addMetric('AutoFixFailed', MetricUnit.Count, 1);
    logger.error('automatic fix failed', { error: (error as Error).message });
    return undefined;
  }
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
      remediation: remediationFromEnv,
    }),
  );

/**
 * The remediation role (REMEDIATION_ROLE_NAME, set with remediation: enabled), assumed in the
 * stack's own account for automatic fixes; undefined without one.
 */
let remediation: { settings: SettingsPort; by: string } | undefined;
async function remediationFromEnv() {
  const roleName = stackEnv.remediationRoleName();
  if (!roleName) return undefined;
  // One port per container, like the STS client: its clients' sockets and the role's
  // credentials (refreshed as they expire) serve every invocation.
  if (!remediation) {
    sts ??= stsClient(region());
    const account = stackEnv.reportBucketOwner();
    const roles = new MemberRoles(sts, {
      partition: partitionOf(region()),
      roleName,
      scanId: 'auto-fix',
    });
    const clients = new AwsClients(
      { maxAttempts: 10, credentials: roles.provider(account) },
      region(),
    );
    remediation = { settings: awsSettings(clients), by: roles.roleArn(account) };
  }
  return remediation;
}

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
