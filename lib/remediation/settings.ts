import type {
  BucketAddress,
  EncryptionSetting,
  RotationSetting,
  SettingsPort,
} from '../aws/bucket-settings.js';
import { type BucketFix, type FIXABLE_RULES, ROTATION_PERIOD_DAYS } from './plan.js';

/**
 * The three settings a fix writes, as values a fix record holds: a bucket policy (its parsed
 * document, `null` when the bucket has none), a default encryption configuration (`null` where
 * the bucket has none: moto; AWS always answers one), a key's rotation. Each has a read, a
 * comparison that ignores what AWS may present differently, and a write of a whole value (the
 * fix's `after` when applying, the saved previous value when undoing).
 */
export interface SettingKind {
  /** The setting as it is now. */
  read(port: SettingsPort, fix: BucketFix): Promise<unknown>;
  /** Whether two values are the same setting. */
  same(a: unknown, b: unknown): boolean;
  /** Writes `value` whole, adding each API call to `calls` as it is made. */
  write(port: SettingsPort, fix: BucketFix, value: unknown, calls: string[]): Promise<void>;
  /** The IAM actions a write of `value` needs, and a read. */
  writeActions(value: unknown): string[];
  readAction: string;
  /** The API call of a read. */
  readApi: string;
}

const addressOf = (fix: BucketFix): BucketAddress => ({
  bucket: fix.bucket,
  account: fix.account,
  region: fix.region,
});

/** JSON with object keys sorted: two documents that differ only in key order compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

const policyKind: SettingKind = {
  readAction: 's3:GetBucketPolicy',
  readApi: 'GetBucketPolicy',
  read: async (port, fix) => {
    const text = await port.readPolicy(addressOf(fix));
    return text === undefined ? null : (JSON.parse(text) as unknown);
  },
  same: (a, b) => canonicalJson(a ?? null) === canonicalJson(b ?? null),
  write: async (port, fix, value, calls) => {
    if (value === null) {
      calls.push('DeleteBucketPolicy');
      await port.deletePolicy(addressOf(fix));
      return;
    }
    calls.push('PutBucketPolicy');
    await port.putPolicy(addressOf(fix), JSON.stringify(value));
  },
  writeActions: (value) => [value === null ? 's3:DeleteBucketPolicy' : 's3:PutBucketPolicy'],
};

type Rule = EncryptionSetting['Rules'][number];

/**
 * A rule as S3 means it: Bucket Key off when absent, nothing blocked when
 * `BlockedEncryptionTypes` is absent, empty or `NONE` (aws-facts §2.3).
 */
function normalRule(rule: Rule): Rule {
  const blocked = (rule.BlockedEncryptionTypes?.EncryptionType ?? [])
    .filter((t) => t !== 'NONE')
    .sort();
  return {
    ...rule,
    BucketKeyEnabled: rule.BucketKeyEnabled === true,
    BlockedEncryptionTypes: { EncryptionType: blocked },
  };
}

const encryptionKind: SettingKind = {
  readAction: 's3:GetEncryptionConfiguration',
  readApi: 'GetBucketEncryption',
  read: async (port, fix) => (await port.readEncryption(addressOf(fix))) ?? null,
  same: (a, b) => {
    const rules = (v: unknown) =>
      v ? ((v as EncryptionSetting).Rules ?? []).map(normalRule) : null;
    return canonicalJson(rules(a)) === canonicalJson(rules(b));
  },
  write: async (port, fix, value, calls) => {
    if (value === null) {
      calls.push('DeleteBucketEncryption');
      await port.deleteEncryption(addressOf(fix));
      return;
    }
    // Whether a PUT without BlockedEncryptionTypes keeps an earlier block is unverified
    // (remediation.md §7): a rule that blocks nothing says NONE explicitly.
    const rules = (value as EncryptionSetting).Rules.map((rule) =>
      rule.BlockedEncryptionTypes?.EncryptionType?.length
        ? rule
        : { ...rule, BlockedEncryptionTypes: { EncryptionType: ['NONE'] } },
    );
    calls.push('PutBucketEncryption');
    await port.putEncryption(addressOf(fix), { Rules: rules });
  },
  writeActions: () => ['s3:PutEncryptionConfiguration'],
};

/** A rotation value of a record: the key and its status. */
type KeyRotation = RotationSetting & { KeyId: string };

const keyOf = (fix: BucketFix): string => (fix.after as KeyRotation).KeyId;

const rotationKind: SettingKind = {
  readAction: 'kms:GetKeyRotationStatus',
  readApi: 'GetKeyRotationStatus',
  read: async (port, fix) => ({ KeyId: keyOf(fix), ...(await port.readRotation(keyOf(fix))) }),
  same: (a, b) => {
    const x = a as KeyRotation | null;
    const y = b as KeyRotation | null;
    if (!x || !y) return x === y;
    if (x.KeyRotationEnabled !== y.KeyRotationEnabled) return false;
    // moto answers no period; a disabled key's period means nothing.
    return (
      !x.KeyRotationEnabled ||
      x.RotationPeriodInDays === undefined ||
      y.RotationPeriodInDays === undefined ||
      x.RotationPeriodInDays === y.RotationPeriodInDays
    );
  },
  write: async (port, fix, value, calls) => {
    const rotation = value as KeyRotation;
    if (!rotation.KeyRotationEnabled) {
      calls.push('DisableKeyRotation');
      await port.disableRotation(keyOf(fix));
      return;
    }
    calls.push('EnableKeyRotation');
    await port.enableRotation(keyOf(fix), rotation.RotationPeriodInDays ?? ROTATION_PERIOD_DAYS);
  },
  writeActions: (value) => [
    (value as KeyRotation).KeyRotationEnabled ? 'kms:EnableKeyRotation' : 'kms:DisableKeyRotation',
  ],
};

/** The setting a fix writes. */
export function settingKind(fix: Pick<BucketFix, 'setting'>): SettingKind {
  const kinds: Record<(typeof FIXABLE_RULES)[keyof typeof FIXABLE_RULES], SettingKind> = {
    'bucket policy': policyKind,
    'default encryption': encryptionKind,
    'key rotation': rotationKind,
  };
  return kinds[fix.setting];
}

/**
 * What one write at a time is about: a bucket's configuration (S3 answers OperationAborted to
 * concurrent config writes on one bucket), or a key shared by several buckets.
 */
export function laneOf(fix: BucketFix): string {
  return fix.setting === 'key rotation'
    ? `key ${keyOf(fix)}`
    : `bucket ${fix.account}/${fix.bucket}`;
}

/**
 * Every IAM action a fix or its undo may call on a customer's bucket or key: each setting's
 * read and its writes (a policy put or deleted, the encryption configuration put, rotation on
 * or off). The remediation role of the deployment grants exactly these writes.
 */
export const FIX_IAM_ACTIONS = {
  reads: ['kms:GetKeyRotationStatus', 's3:GetBucketPolicy', 's3:GetEncryptionConfiguration'],
  writes: [
    'kms:DisableKeyRotation',
    'kms:EnableKeyRotation',
    's3:DeleteBucketPolicy',
    's3:PutBucketPolicy',
    's3:PutEncryptionConfiguration',
  ],
} as const;
