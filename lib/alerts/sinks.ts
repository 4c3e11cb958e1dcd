import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { withDeadline } from '../aws/call-bounds.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../aws/timeouts.js';
import { ConfigError } from '../errors.js';
import { EventBridgeSink } from './eventbridge.js';
import { SecurityHubSink } from './security-hub.js';
import type { AlertSettings } from './settings.js';
import type { AlertSink } from './sink.js';
import { parseWebhookUrl, SlackWebhookSink } from './slack.js';
import { SnsSink, topicRegion } from './sns.js';

/**
 * No alert call may hang a scan. SNS and EventBridge get no SDK retries (`maxAttempts: 1`):
 * the SDK also retries a call whose connection broke after the request left, which could
 * publish twice; the sinks retry themselves what was refused for a passing reason (throttling,
 * 5xx) and report the rest as in doubt. Security Hub keeps the SDK's retries: importing the
 * same finding twice is harmless.
 */
const clientOptions = (region: string, maxAttempts = 1) => ({
  region,
  maxAttempts,
  retryMode: 'standard' as const,
  requestHandler: {
    connectionTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  },
});

/** What building the sinks needs from the host. */
export interface SinkEnvironment {
  /** Environment variables (the Slack URL is read from the one the config names). */
  env: Readonly<Record<string, string | undefined>>;
  /** The region of the scanner (EventBridge bus by name). */
  region: string;
  /** The account whose credentials send (Security Hub takes only that account's findings). */
  callerAccount: string;
  /** Tests inject clients; by default each sink builds its own. */
  clients?: {
    sns?: (region: string) => SNSClient;
    events?: (region: string) => EventBridgeClient;
    securityHub?: (region: string) => SecurityHubClient;
  };
  /** The stack's alert topic, for an `sns:` section without `topicArn`. */
  defaultTopicArn?: string;
  /**
   * Credentials in another account of an organisation-wide scan (its member role), so its
   * findings reach its own Security Hub; without it they are reported, not sent.
   */
  memberCredentials?: (account: string) => () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
  }>;
  /** Tests shorten Slack's one-per-second spacing and the retry backoff. */
  fast?: boolean;
  /**
   * A dry run sends nothing: a Slack sink whose URL is not set is still planned (its preview
   * says the URL is missing) instead of refused.
   */
  dryRun?: boolean;
}

/** The region of an event bus given by ARN, else the scanner's. */
function busRegion(bus: string, fallback: string): string {
  return bus.startsWith('arn:') ? (bus.split(':')[3] ?? fallback) : fallback;
}

/**
 * The sinks the `alerts:` section names, each with its client. A Slack sink whose URL is not
 * set, or is not a URL s3scan may post to, is a {@link ConfigError} naming the variable, never
 * its value.
 */
export function sinksFromSettings(settings: AlertSettings, host: SinkEnvironment): AlertSink[] {
  const sinks: AlertSink[] = [];
  const fast = host.fast ? { baseDelayMs: 5 } : {};
  if (settings.slack) {
    const name = settings.slack.webhookUrlEnv;
    const value = host.env[name] ?? (host.dryRun ? 'https://hooks.slack.invalid/' : undefined);
    if (!value)
      throw new ConfigError(
        `alerts.slack is configured but ${name} is not set; put the webhook URL in that environment variable (it is a secret: never in the config file)`,
      );
    sinks.push(
      new SlackWebhookSink({
        url: parseWebhookUrl(value, name),
        top: settings.digestSize,
        ...(host.fast ? { spacingMs: 20 } : {}),
      }) as AlertSink,
    );
  }
  if (settings.sns) {
    const topicArn = settings.sns.topicArn ?? host.defaultTopicArn;
    if (!topicArn)
      throw new ConfigError(
        'alerts.sns has no topicArn; outside the stack (which uses its own topic) name the topic to publish to',
      );
    const region = topicRegion(topicArn);
    const sns = host.clients?.sns?.(region) ?? withDeadline(new SNSClient(clientOptions(region)));
    sinks.push(
      new SnsSink({
        sns,
        topicArn,
        perFinding: settings.sns.perFinding,
        ...fast,
      }) as AlertSink,
    );
  }
  if (settings.eventBridge) {
    const region = busRegion(settings.eventBridge.busName, host.region);
    const events =
      host.clients?.events?.(region) ?? withDeadline(new EventBridgeClient(clientOptions(region)));
    sinks.push(
      new EventBridgeSink({ events, busName: settings.eventBridge.busName, ...fast }) as AlertSink,
    );
  }
  if (settings.securityHub) {
    const cache = new Map<string, SecurityHubClient>();
    const client = (region: string) => {
      let c = cache.get(region);
      if (!c) {
        c =
          host.clients?.securityHub?.(region) ??
          withDeadline(new SecurityHubClient(clientOptions(region, 4)));
        cache.set(region, c);
      }
      return c;
    };
    const members = new Map<string, SecurityHubClient>();
    const memberCredentials = host.memberCredentials;
    const memberClient = memberCredentials
      ? async (account: string, region: string) => {
          const key = `${account} ${region}`;
          let c = members.get(key);
          if (!c) {
            c = withDeadline(
              new SecurityHubClient({
                ...clientOptions(region, 4),
                credentials: memberCredentials(account),
              }),
            );
            members.set(key, c);
          }
          return c;
        }
      : undefined;
    sinks.push(
      new SecurityHubSink({
        client,
        callerAccount: host.callerAccount,
        memberClient,
        ...fast,
      }) as AlertSink,
    );
  }
  return sinks;
}
