import type { FromSchema } from 'json-schema-to-ts';
import { SEVERITIES, type Severity } from '../engine/types.js';
import { CHANGE_KINDS, type ChangeKind } from '../history/drift.js';
import { ACCOUNT_ID_FIELD } from '../validation/fields.js';

/** What every sink may narrow: which changes, how severe, which rules and accounts. */
export interface SinkFilter {
  minSeverity?: Severity;
  changes?: ChangeKind[];
  /** Rule ids; empty or absent: every rule. */
  rules?: string[];
  /** 12-digit account ids; empty or absent: every account. */
  accounts?: string[];
}

/** The `alerts:` section as written: the type of its schema ({@link alertsSchema}). */
export type AlertsFile = FromSchema<ReturnType<typeof alertsSchema>>;

/** The `alerts:` section with defaults applied. */
export interface AlertSettings extends SinkFilter {
  minSeverity: Severity;
  changes: ChangeKind[];
  digestSize: number;
  baseline: 'quiet' | 'send';
  expiringSuppressionDays: number;
  link?: string;
  slack?: SinkFilter & { webhookUrlEnv: string };
  sns?: SinkFilter & { topicArn?: string; perFinding: boolean };
  eventBridge?: SinkFilter & { busName: string };
  securityHub?: SinkFilter & { reimportDays: number };
}

/** Defaults: everything that got worse or better, low and above; `still-failing` only counted. */
export const DEFAULT_ALERT_SETTINGS: Omit<
  AlertSettings,
  'slack' | 'sns' | 'eventBridge' | 'securityHub'
> = {
  minSeverity: 'low',
  changes: ['new', 'regressed', 'unverifiable', 'resolved', 'gone'],
  digestSize: 20,
  baseline: 'quiet',
  expiringSuppressionDays: 7,
};

export const DEFAULT_SLACK_ENV = 'S3SCAN_SLACK_WEBHOOK_URL';

const filterProperties = (ruleIds: readonly string[]) =>
  ({
    minSeverity: { enum: [...SEVERITIES] },
    changes: { type: 'array', uniqueItems: true, items: { enum: [...CHANGE_KINDS] } },
    rules: { type: 'array', items: { enum: [...ruleIds] } },
    accounts: { type: 'array', items: ACCOUNT_ID_FIELD },
  }) as const;

/** JSON Schema of the `alerts:` section (part of the config schema). */
export function alertsSchema(ruleIds: readonly string[]) {
  const filter = filterProperties(ruleIds);
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...filter,
      digestSize: {
        type: 'integer',
        minimum: 1,
        maximum: 35,
        description: 'Changes listed in a digest (Slack, SNS, the Scan Completed event).',
      },
      baseline: {
        enum: ['quiet', 'send'],
        description:
          'The first scan of a scope has nothing to compare with: quiet (default) sends one digest saying so and no per-finding messages, so a new install does not flood anyone.',
      },
      expiringSuppressionDays: {
        type: 'integer',
        minimum: 0,
        maximum: 365,
        description: 'Days before a suppression expires that s3scan warns, once.',
      },
      link: {
        type: 'string',
        pattern: '^https?://',
        description: 'Where people read the report (the dashboard); put in every digest.',
      },
      slack: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...filter,
          webhookUrlEnv: {
            type: 'string',
            pattern: '^[A-Z_][A-Z0-9_]*$',
            description:
              'The environment variable holding the webhook URL (a secret: never in the config).',
          },
        },
      },
      sns: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...filter,
          // Standard topics only: a FIFO topic needs a MessageGroupId on every message.
          topicArn: {
            description: "Absent in the stack: the stack's own encrypted topic (ALERT_TOPIC_ARN).",
            type: 'string',
            pattern: '^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\\d:\\d{12}:[A-Za-z0-9_-]{1,256}$',
          },
          perFinding: {
            type: 'boolean',
            description:
              'Also one message per change, with attributes for subscription filter policies.',
          },
        },
      },
      eventBridge: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...filter,
          busName: {
            type: 'string',
            pattern:
              '^([A-Za-z0-9._/-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/[A-Za-z0-9._/-]{1,256})$',
          },
        },
      },
      securityHub: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...filter,
          reimportDays: {
            type: 'integer',
            minimum: 1,
            maximum: 80,
            description:
              'Unchanged failing findings are imported again after this many days, well before Security Hub deletes a finding 90 days after its last update.',
          },
        },
      },
    },
  } as const;
}

/** The section with defaults, or undefined when the config has no `alerts:`. */
export function alertSettingsOf(file: AlertsFile | undefined): AlertSettings | undefined {
  if (!file) return undefined;
  const { slack, sns, eventBridge, securityHub, ...top } = file;
  return {
    ...DEFAULT_ALERT_SETTINGS,
    ...top,
    ...(slack
      ? { slack: { ...slack, webhookUrlEnv: slack.webhookUrlEnv ?? DEFAULT_SLACK_ENV } }
      : {}),
    ...(sns ? { sns: { ...sns, perFinding: sns.perFinding ?? false } } : {}),
    ...(eventBridge
      ? { eventBridge: { ...eventBridge, busName: eventBridge.busName ?? 'default' } }
      : {}),
    ...(securityHub
      ? { securityHub: { ...securityHub, reimportDays: securityHub.reimportDays ?? 30 } }
      : {}),
  };
}
