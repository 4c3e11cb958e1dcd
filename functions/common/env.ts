import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import {
  CONFIG_OBJECT_KEY,
  type ConfigSource,
  S3ConfigSource,
  SsmConfigSource,
  ssmConfigClient,
} from '../../lib/aws/config-sources.js';
import { MemberRoles, partitionOfRegion, stsClient } from '../../lib/collect/assume-role.js';
import { AwsClients } from '../../lib/collect/clients.js';
import { OBJECT_MODES, type ScanSettings } from '../../lib/config/config.js';
import { DeployedConfig } from '../../lib/config/deployed.js';
import { ConfigError } from '../../lib/errors.js';
import { reportStoreClient } from '../../lib/report-store/client.js';
import { IntegrityCheckedStore } from '../../lib/report-store/integrity.js';
import { S3ReportStore } from '../../lib/report-store/s3.js';
import { S3WorkArea } from '../../lib/report-store/s3-work-area.js';
import type { ReportStore } from '../../lib/report-store/types.js';
import type { MemberClients } from '../../lib/step-functions/scan-bucket.js';
import { REGION_FIELD, SCAN_ID_FIELD } from '../../lib/validation/fields.js';
import { compileSchema, formatSchemaErrors } from '../../lib/validation/json-schema.js';

/** Shared by every function: one logger and one metrics namespace. */
export const logger = new Logger({ serviceName: 's3scan' });
export const metrics = new Metrics({ namespace: 's3scan', serviceName: 's3scan' });

/** Reads a positive integer setting from the environment, failing loudly at cold start. */
export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`environment variable ${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** A required environment variable. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

export const region = () => process.env.AWS_REGION ?? 'us-east-1';

/**
 * The stack's environment (serverless.yml), read here and nowhere else in functions/: each
 * variable is named once. Read when asked, not at import, so a test can set it per case.
 */
export const stackEnv = {
  /** SCAN_ACCOUNTS: the organisation-wide audit's accounts (an OU, a list, `all`); unset: none. */
  scanAccounts: () => process.env.SCAN_ACCOUNTS || undefined,
  /** The member role the scanner assumes in member accounts, and its ExternalId. */
  memberRole: (): { roleName: string; externalId?: string } => ({
    roleName: process.env.MEMBER_ROLE_NAME || 's3scan-read',
    ...(process.env.MEMBER_EXTERNAL_ID ? { externalId: process.env.MEMBER_EXTERNAL_ID } : {}),
  }),
  /** REMEDIATION_ROLE_NAME: the remediation role automatic fixes assume (remediation: enabled). */
  remediationRoleName: () => process.env.REMEDIATION_ROLE_NAME || undefined,
  /** DEFAULT_OBJECT_MODE: the schedule's object mode when the config names none. */
  defaultObjectMode: () => process.env.DEFAULT_OBJECT_MODE,
  /** OBJECT_ACCESS: what the stack's roles may read of object data. */
  objectAccess: () => process.env.OBJECT_ACCESS,
  /** OBJECT_FAN_OUT: large buckets' objects are read by parallel map items. */
  objectFanOut: () => process.env.OBJECT_FAN_OUT === 'true',
  /** REPORT_BUCKET: the report store (unset: a scan answers without storing). */
  reportBucket: () => process.env.REPORT_BUCKET || undefined,
  /** The report bucket's owner: the scanner's own account. */
  reportBucketOwner: () => process.env.REPORT_BUCKET_OWNER ?? '',
  /** CONFIG_PARAMETER: the SSM parameter holding the config, when the stack names one. */
  configParameter: () => process.env.CONFIG_PARAMETER || undefined,
  /** SLACK_WEBHOOK_PARAMETER: the SecureString holding the Slack webhook URL. */
  slackWebhookParameter: () => process.env.SLACK_WEBHOOK_PARAMETER || undefined,
  /** ALERT_TOPIC_ARN: the stack's SNS topic. */
  alertTopicArn: () => process.env.ALERT_TOPIC_ARN || undefined,
  /** Every variable, for the sinks that read a secret from the one the config names. */
  all: (): Record<string, string | undefined> => ({ ...process.env }),
};

/**
 * AWS clients for a scan: the config's retries and timeouts. SCAN_MAX_ATTEMPTS is the stack's
 * default, used when the config file does not set `scan.maxAttempts` itself.
 */
export function clientsFromEnv(
  settings?: ScanSettings,
  configured: { maxAttempts?: number } = {},
): AwsClients {
  const maxAttempts = configured.maxAttempts ?? intFromEnv('SCAN_MAX_ATTEMPTS', 10);
  return new AwsClients(
    settings
      ? {
          maxAttempts,
          retryMode: settings.retryMode,
          connectTimeoutMs: settings.connectTimeoutMs,
          requestTimeoutMs: settings.requestTimeoutMs,
          callDeadlineMs: settings.callDeadlineMs,
          timeoutRetries: settings.timeoutRetries,
        }
      : { maxAttempts },
    region(),
  );
}

/**
 * Where the deployed scanner's config lives: the SSM parameter CONFIG_PARAMETER when the stack
 * sets one, else `config/s3scan.config.yml` in the report bucket (under REPORT_PREFIX).
 */
export function configSourceFromEnv(): ConfigSource {
  const parameter = process.env.CONFIG_PARAMETER;
  if (parameter) return new SsmConfigSource({ ssm: ssmConfigClient(region()), name: parameter });
  const location = reportLocation();
  return new S3ConfigSource({
    s3: reportStoreClient(region()),
    bucket: location.bucket,
    key: location.prefix
      ? `${location.prefix.replace(/\/$/, '')}/${CONFIG_OBJECT_KEY}`
      : CONFIG_OBJECT_KEY,
    ...(location.expectedOwner ? { expectedOwner: location.expectedOwner } : {}),
  });
}

let deployedConfig: DeployedConfig | undefined;

/** The deployed config, one per container: its cache lives as long as the container. */
export function deployedConfigFromEnv(): DeployedConfig {
  deployedConfig ??= new DeployedConfig(configSourceFromEnv());
  return deployedConfig;
}

function reportLocation() {
  return {
    bucket: requiredEnv('REPORT_BUCKET'),
    ...(process.env.REPORT_PREFIX ? { prefix: process.env.REPORT_PREFIX } : {}),
    ...(process.env.REPORT_BUCKET_OWNER ? { expectedOwner: process.env.REPORT_BUCKET_OWNER } : {}),
    ...(process.env.REPORT_KMS_KEY_ARN ? { kmsKeyArn: process.env.REPORT_KMS_KEY_ARN } : {}),
  };
}

/** The S3 report store named by REPORT_BUCKET (and REPORT_PREFIX, REPORT_KMS_KEY_ARN). */
export function storeFromEnv(): ReportStore {
  // Every read is checked against the scan's manifest and its digest in index.json.
  return new IntegrityCheckedStore(
    S3ReportStore.create({
      region: region(),
      maxAttempts: intFromEnv('SCAN_MAX_ATTEMPTS', 10),
      ...reportLocation(),
    }),
  );
}

/** The work area of a scan, beside its report. */
export function workFromEnv(scanId: string): S3WorkArea {
  return S3WorkArea.create({ region: region(), scanId, ...reportLocation() });
}

/**
 * Validates a payload against a JSON Schema; the error names every invalid field. The
 * payload's type is the schema's own (json-schema-to-ts), so the two cannot drift apart.
 */
export function validator<const S extends JSONSchema>(
  schema: S,
  what: string,
): (event: unknown) => FromSchema<S> {
  const validate = compileSchema<unknown>(schema as object);
  return (event) => {
    const input: unknown = event ?? {};
    if (!validate(input))
      throw new ConfigError(
        `invalid ${what} payload:\n  ${formatSchemaErrors(validate.errors).join('\n  ')}`,
      );
    // Checked against the schema just now: its type is the schema's.
    return input as FromSchema<S>;
  };
}

/** The JSON Schema properties every scan entry point accepts: targets, scan id, object mode. */
export const SCAN_TARGET_PROPERTIES = {
  buckets: {
    type: 'array',
    maxItems: 1000,
    items: { type: 'string', minLength: 1, maxLength: 255 },
  },
  regions: {
    type: 'array',
    maxItems: 50,
    items: REGION_FIELD,
  },
  scanId: SCAN_ID_FIELD,
  objects: { enum: [...OBJECT_MODES] },
  versions: { type: 'boolean' },
  sampleSize: { type: 'integer', minimum: 1, maximum: 100000 },
} as const;

/**
 * The member roles of each scan this container has served: one MemberRoles per (scan, role,
 * ExternalId), so a warm Lambda reuses a member's credentials across map items and refreshes
 * them before they expire, instead of one AssumeRole per bucket.
 */
// A container serves one scan at a time: older scans' roles are dropped.
const memberRoleCache = new LRUCache<string, MemberRoles>({ maxSize: 8 });

/** Clients for a member account of an organisation-wide scan, through its member role. */
export const memberClientsFromEnv: MemberClients = (account, role, scanId) => {
  const key = JSON.stringify([scanId, role.roleName, role.externalId ?? '']);
  let roles = memberRoleCache.get(key);
  if (!roles) {
    roles = new MemberRoles(stsClient(region()), {
      partition: partitionOf(region()),
      roleName: role.roleName,
      ...(role.externalId ? { externalId: role.externalId } : {}),
      scanId,
    });
    memberRoleCache.add(key, roles);
  }
  return new AwsClients(
    {
      maxAttempts: intFromEnv('SCAN_MAX_ATTEMPTS', 10),
      credentials: roles.provider(account),
    },
    region(),
  );
};

/** The partition of a region (the member roles' ARNs live in the scanner's partition). */
export const partitionOf = partitionOfRegion;

/**
 * The accounts a deployed scan covers, from SCAN_ACCOUNTS (serverless.yml `scanAccounts`):
 * empty for the scanner's own account, `org` for every ACTIVE account of the organisation,
 * OU ids (`ou-…`, `r-…`) for the accounts under them, or account ids. The event may say it too.
 */
export function accountSourceOf(
  value: string | undefined,
): { org?: boolean; ou?: string[]; accounts?: string } | undefined {
  const text = (value ?? '').trim();
  if (text === '') return undefined;
  if (text === 'org') return { org: true };
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.every((p) => /^(ou-[a-z0-9]+-[a-z0-9]+|r-[a-z0-9]+)$/.test(p))) return { ou: parts };
  if (parts.every((p) => /^\d{12}$/.test(p))) return { accounts: parts.join(',') };
  throw new ConfigError(
    `SCAN_ACCOUNTS ${JSON.stringify(text)} is not "org", OU ids (ou-…, r-…) or 12-digit account ids`,
  );
}
