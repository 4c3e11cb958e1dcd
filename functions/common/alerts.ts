import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { alertScan } from '../../lib/alerts/run-alerts.js';
import type { AlertSink } from '../../lib/alerts/sink.js';
import { ssmConfigClient } from '../../lib/aws/config-sources.js';
import { readSecureString } from '../../lib/aws/secrets.js';
import { MemberRoles, stsClient } from '../../lib/collect/assume-role.js';
import type { LoadedConfig } from '../../lib/config/config.js';
import type { ReportStore } from '../../lib/report-store/types.js';
import { logger, metrics, partitionOf, region, stackEnv } from './env.js';

/** What the functions answer about alerts: per sink, or why none were sent. */
export interface AlertsAnswer {
  status: 'off' | 'sent' | 'undelivered' | 'failed';
  sinks?: { sink: string; status: string; sent: number; alreadySent: number; failed: number }[];
  error?: string;
}

/** What sending alerts needs from outside; tests inject the sinks. */
export interface AlertDependencies {
  sinks?: (config: LoadedConfig) => Promise<AlertSink[]>;
}

/**
 * The stack's sinks: the Slack URL from the SSM SecureString SLACK_WEBHOOK_PARAMETER (else
 * the variable the config names), SNS on the stack's topic unless the config names one,
 * Security Hub as the stack's own account.
 */
async function sinksFromStack(config: LoadedConfig): Promise<AlertSink[]> {
  const settings = config.alerts!;
  // Loaded when alerts are configured: the SNS, EventBridge and Security Hub clients stay out
  // of the cold start of every invocation.
  const { sinksFromSettings } = await import('../../lib/alerts/sinks.js');
  const env = stackEnv.all();
  const parameter = stackEnv.slackWebhookParameter();
  if (settings.slack && parameter)
    env[settings.slack.webhookUrlEnv] = await readSecureString(
      ssmConfigClient(region()),
      parameter,
    );
  // An organisation-wide audit's member findings go to each member's own Security Hub,
  // through the member role the scan read it with (it needs ImportToSecurityHub=true).
  // Assumed only when a member's finding is sent: a one-account scan never does.
  const members = new MemberRoles(stsClient(region()), {
    partition: partitionOf(region()),
    ...stackEnv.memberRole(),
    scanId: 'alerts',
  });
  return sinksFromSettings(settings, {
    env,
    region: region(),
    callerAccount: stackEnv.reportBucketOwner(),
    ...(stackEnv.alertTopicArn() ? { defaultTopicArn: stackEnv.alertTopicArn() } : {}),
    memberCredentials: (account: string) => members.provider(account),
  });
}

/**
 * Sends a published scan's alerts (index.json is written first: a sink never costs the
 * report). Never throws: a failure is logged, counted and answered, and the ledger lets the
 * next invocation (or `s3scan alert`) finish what was left.
 */
export async function alertAfterPublish(
  store: ReportStore,
  scanId: string,
  config: LoadedConfig,
  deps: AlertDependencies = {},
  /** Added to the digest's cause: an automatic fix the scan planned. */
  note?: string,
): Promise<AlertsAnswer> {
  if (!config.alerts) return { status: 'off' };
  try {
    const sinks = await (deps.sinks ?? sinksFromStack)(config);
    const { report } = await alertScan(
      store,
      scanId,
      config.alerts,
      () => sinks,
      note ? { note } : {},
    );
    const undelivered = report.sinks.reduce((n, s) => n + s.failed.length + (s.error ? 1 : 0), 0);
    metrics.addMetric('AlertsUndelivered', MetricUnit.Count, undelivered);
    if (!report.ok)
      logger.warn('alerts not all delivered', {
        scanId,
        sinks: report.sinks.map(({ deliveredIds: _ids, ...s }) => s),
      });
    return {
      status: report.ok ? 'sent' : 'undelivered',
      sinks: report.sinks.map((s) => ({
        sink: s.sink,
        status: s.status,
        sent: s.sent,
        alreadySent: s.alreadySent,
        failed: s.failed.length,
      })),
    };
  } catch (error) {
    logger.error('alerts failed', { scanId, error: (error as Error).message });
    metrics.addMetric('AlertsUndelivered', MetricUnit.Count, 1);
    return { status: 'failed', error: (error as Error).message };
  }
}
