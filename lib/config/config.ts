import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import { parse as parseYaml } from 'yaml';
import { type AlertSettings, alertSettingsOf, alertsSchema } from '../alerts/settings.js';
import { DEFAULT_CALL_DEADLINE_MS, DEFAULT_TIMEOUT_RETRIES } from '../aws/call-bounds.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../aws/timeouts.js';
import { DEFAULT_PREFIX_CONCURRENCY } from '../collect/objects/prefix-limit.js';
import { DEFAULT_EVALUATION_CONFIG, type EvaluationConfig } from '../engine/evaluate.js';
import { SEVERITIES, UPLOAD_ENCRYPTION_STANCES } from '../engine/types.js';
import { ConfigError } from '../errors.js';
import type { ConfigProvenance } from '../report-store/types.js';
import { RULE_CATALOGUE } from '../rules/index.js';
import { ACCOUNT_ID_FIELD } from '../validation/fields.js';
import { compileSchema, defaultsOf, formatSchemaErrors } from '../validation/json-schema.js';

/** The object modes a scan may ask for. */
export const OBJECT_MODES = ['none', 'sample', 'full', 'inventory', 'auto'] as const;
export type ObjectMode = (typeof OBJECT_MODES)[number];

export type { ConfigProvenance };

/** A loaded, validated configuration. */
export interface LoadedConfig {
  evaluation: EvaluationConfig;
  scan: ScanSettings;
  /** Where alerts go, and which; absent: no `alerts:` section, nothing is sent. */
  alerts?: AlertSettings;
  /** Fixes rescans make by themselves; absent: none. */
  remediation?: RemediationSettings;
  /** The validated document, as written: what a later step (or host) validates again. */
  document: ConfigFile;
  provenance: ConfigProvenance;
}

const ruleIds = RULE_CATALOGUE.map((r) => r.id);

/**
 * The `scan:` section, declared once: each setting's type, range, default and meaning. Its
 * type with every default filled is {@link ScanSettings}; the config file may leave any out.
 */
const SCAN_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      default: 16,
      description: 'Buckets read at once.',
    },
    maxAttempts: {
      type: 'integer',
      minimum: 1,
      maximum: 20,
      default: 10,
      description: 'Attempts of one AWS call (the SDK retry strategy), throttling included.',
    },
    prefixConcurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: DEFAULT_PREFIX_CONCURRENCY,
      description:
        'Object HEADs in flight per key prefix; S3 serves 5,500 GET/HEAD per second per prefix.',
    },
    headTransport: {
      enum: ['direct', 'sdk'],
      default: 'direct',
      description:
        'How object HEADs go out: direct (signed, keep-alive sockets) or through the SDK.',
    },
    connectTimeoutMs: {
      type: 'integer',
      minimum: 100,
      maximum: 120_000,
      default: DEFAULT_CONNECT_TIMEOUT_MS,
      description: 'A TCP (and TLS) connection that takes longer is abandoned and retried.',
    },
    requestTimeoutMs: {
      type: 'integer',
      minimum: 100,
      maximum: 900_000,
      default: DEFAULT_REQUEST_TIMEOUT_MS,
      description:
        'A call with no answer, or a response that stalls, for this long is abandoned and retried.',
    },
    retryMode: {
      enum: ['standard', 'adaptive'],
      // Measured (bench retries): at 20 % transient faults adaptive took 9x the wall time of
      // standard for the same findings; per-prefix limits already keep S3 below its 503 rate.
      default: 'standard',
      description:
        'The SDK retry mode: standard backs off per call, adaptive also rate-limits the whole client.',
    },
    callDeadlineMs: {
      type: 'integer',
      minimum: 1_000,
      maximum: 900_000,
      default: DEFAULT_CALL_DEADLINE_MS,
      description:
        'A call with no final answer after this long, over all its attempts, fails: one never answered call is one ERROR, not maxAttempts x requestTimeoutMs.',
    },
    timeoutRetries: {
      type: 'integer',
      minimum: 0,
      maximum: 10,
      default: DEFAULT_TIMEOUT_RETRIES,
      description: 'Retries of a timed-out attempt per call; throttling keeps maxAttempts.',
    },
    organizationPolicies: {
      type: 'boolean',
      default: true,
      description:
        'Read the RCPs and SCPs that apply to each scanned account (AWS Organizations, once per scan) and judge the policy rules over them. Needs the management account or a delegated administrator; otherwise the findings say the RCPs were not read, and why.',
    },
  },
} as const;

/** Settings for collection that the config file may set, every default filled. */
export type ScanSettings = FromSchema<typeof SCAN_SETTINGS_SCHEMA>;

/** The scan settings of a config that sets none: the schema's defaults. */
export const DEFAULT_SCAN_SETTINGS: ScanSettings = defaultsOf(SCAN_SETTINGS_SCHEMA);

/**
 * What a scheduled (or any Step Functions run without `objects`) scan reads of objects. Unset
 * values come from the stack's objectAccess (`none`: none, `inventory`: inventory, `all`: auto);
 * a mode objectAccess does not grant is refused before any read.
 */
const SCHEDULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    objects: { enum: [...OBJECT_MODES] },
    versions: {
      type: 'boolean',
      description: 'Noncurrent versions too (full sweeps and inventories that list them).',
    },
    sampleSize: {
      type: 'integer',
      minimum: 1,
      maximum: 10_000,
      description: "Objects per bucket in sample mode (and auto's fallback).",
    },
  },
} as const;

/** What the deployed schedule scans (see {@link SCHEDULE_SCHEMA}). */
export type ScheduleSettings = FromSchema<typeof SCHEDULE_SCHEMA>;

/**
 * The rules a rescan may fix by itself (lib/remediation FIXABLE_RULES; a test holds them
 * equal): the bucket settings whose fix is a merge or a carried-forward write.
 */
export const AUTO_FIXABLE_RULES = [
  's3-bucket-tls-enforced',
  's3-bucket-sse-c-blocked',
  's3-bucket-kms-key-rotation',
] as const;

/**
 * The `remediation:` section: fixes a rescan makes by itself (issue 26, item 6). Off unless
 * rules are named; a dry run (the plan recorded, nothing written) unless `dryRun: false`.
 */
const REMEDIATION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    autoFix: {
      type: 'object',
      additionalProperties: false,
      required: ['rules'],
      properties: {
        rules: {
          type: 'array',
          uniqueItems: true,
          items: { enum: [...AUTO_FIXABLE_RULES] },
          description:
            'Rules whose FAIL a rescan fixes by itself, e.g. a TLS statement someone removed.',
        },
        dryRun: {
          type: 'boolean',
          default: true,
          description: 'Record the plan and write nothing (the default); false applies it.',
        },
      },
    },
  },
} as const;

/** The `remediation:` settings, defaults filled. */
export interface RemediationSettings {
  autoFix: { rules: (typeof AUTO_FIXABLE_RULES)[number][]; dryRun: boolean };
}

/** JSON Schema of the config file; `s3scan` validates every config against it. */
export const CONFIG_SCHEMA = {
  $id: 'https://s3scan.dev/schemas/config.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    rules: {
      type: 'object',
      propertyNames: { enum: ruleIds },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          severity: { enum: [...SEVERITIES] },
        },
      },
    },
    kms: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowedKeyArns: {
          type: 'array',
          items: {
            type: 'string',
            pattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$',
          },
        },
        allowedKeyAccounts: {
          type: 'array',
          items: ACCOUNT_ID_FIELD,
        },
      },
    },
    uploadEncryption: { enum: [...UPLOAD_ENCRYPTION_STANCES] },
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: { minVersion: { enum: ['1.2', '1.3', 1.2, 1.3] } },
    },
    suppressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rule', 'resource', 'reason', 'expires'],
        properties: {
          rule: { enum: ruleIds },
          resource: { type: 'string', minLength: 1 },
          reason: { type: 'string', minLength: 1 },
          expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        },
      },
    },
    scan: SCAN_SETTINGS_SCHEMA,
    alerts: alertsSchema(ruleIds),
    schedule: SCHEDULE_SCHEMA,
    remediation: REMEDIATION_SCHEMA,
  },
} as const;

/**
 * The config file as written (YAML or JSON): the schema's type, defaults left out (they are
 * filled when the config is loaded).
 */
export type ConfigFile = FromSchema<
  typeof CONFIG_SCHEMA,
  { keepDefaultedPropertiesOptional: true }
>;

const validateConfig = compileSchema<ConfigFile>(CONFIG_SCHEMA);

/**
 * Validates a parsed config document and turns it into evaluation and scan settings.
 * Throws {@link ConfigError} listing every invalid field by name.
 */
export function configFromDocument(
  document: unknown,
  source = 'config',
  provenance: ConfigProvenance = { origin: 'default' },
): LoadedConfig {
  const doc = document ?? {};
  if (!validateConfig(doc)) {
    const lines = formatSchemaErrors(validateConfig.errors);
    throw new ConfigError(`${source} is invalid:\n  ${lines.join('\n  ')}`);
  }
  for (const [i, s] of (doc.suppressions ?? []).entries()) {
    if (!isCalendarDate(s.expires)) {
      throw new ConfigError(
        `${source} is invalid:\n  suppressions[${i}].expires: ${s.expires} is not a real date`,
      );
    }
  }
  return {
    evaluation: {
      rules: doc.rules ?? {},
      settings: {
        allowedKmsKeyArns: doc.kms?.allowedKeyArns ?? [],
        allowedKeyAccounts: doc.kms?.allowedKeyAccounts ?? [],
        minTlsVersion: String(
          doc.tls?.minVersion ?? DEFAULT_EVALUATION_CONFIG.settings.minTlsVersion,
        ),
        uploadEncryption:
          doc.uploadEncryption ?? DEFAULT_EVALUATION_CONFIG.settings.uploadEncryption,
      },
      suppressions: doc.suppressions ?? [],
    },
    scan: { ...DEFAULT_SCAN_SETTINGS, ...doc.scan },
    ...(doc.alerts ? { alerts: alertSettingsOf(doc.alerts) } : {}),
    ...(doc.remediation?.autoFix && doc.remediation.autoFix.rules.length > 0
      ? {
          remediation: {
            autoFix: {
              rules: [...doc.remediation.autoFix.rules],
              dryRun: doc.remediation.autoFix.dryRun ?? true,
            },
          },
        }
      : {}),
    document: doc,
    provenance,
  };
}

/**
 * A real YYYY-MM-DD day. `Date.parse` rolls 2026-02-30 over to March 2nd, so the date must
 * survive a round trip unchanged.
 */
function isCalendarDate(text: string): boolean {
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === text;
}

/** "line L, column C" of a character offset, for JSON.parse's "at position N" errors. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/** SHA-256 of a config's text as UTF-8, hex: the same text always records the same hash. */
export function configHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Parses and validates a config's text (YAML, or JSON when `json`), wherever it was read from.
 * Throws {@link ConfigError} naming the place, and the line or the field that is wrong.
 */
export function configFromText(
  text: string,
  options: { json: boolean; describe: string; provenance: Omit<ConfigProvenance, 'sha256'> },
): LoadedConfig {
  refuseOversized(options.describe, Buffer.byteLength(text, 'utf8'));
  let document: unknown;
  try {
    document = options.json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    // Where it broke, as an editor shows it: YAML says "at line L, column C" itself.
    const message = String((error as Error).message);
    const position = /at position (\d+)/.exec(message);
    const where = options.json && position ? ` (${lineAndColumn(text, Number(position[1]))})` : '';
    throw new ConfigError(
      `${options.describe} is not valid ${options.json ? 'JSON' : 'YAML'}: ${message.split('\n')[0]}${where}`,
      { cause: error },
    );
  }
  return configFromDocument(document, options.describe, {
    ...options.provenance,
    sha256: configHash(text),
  });
}

/**
 * The largest config s3scan reads. A config with every rule, the KMS allow-lists and a few
 * hundred suppressions is a few tens of KB; parsing 10 MB of YAML costs over a gigabyte.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function refuseOversized(describe: string, bytes: number): void {
  if (bytes > MAX_CONFIG_BYTES)
    throw new ConfigError(
      `${describe} is ${(bytes / 1024 / 1024).toFixed(1)} MiB; s3scan reads configs of at most 1 MiB (a config with every rule and hundreds of suppressions is a few KB)`,
    );
}

/** Reads a YAML (`.yml`, `.yaml`) or JSON config file. */
export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  // Refused before it is read: a huge file is never loaded into memory.
  const size = await stat(path).then(
    (info) => info.size,
    () => 0,
  );
  refuseOversized(`config file ${path}`, size);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return configFromText(text, {
    json: extname(path) === '.json',
    describe: `config file ${path}`,
    provenance: { origin: 'file', location: resolve(path) },
  });
}

/** The configuration used when no file is given. */
export function defaultConfig(provenance: ConfigProvenance = { origin: 'default' }): LoadedConfig {
  return {
    evaluation: DEFAULT_EVALUATION_CONFIG,
    scan: DEFAULT_SCAN_SETTINGS,
    document: {},
    provenance,
  };
}
