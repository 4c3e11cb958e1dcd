import type {
  BucketAddress,
  EncryptionSetting,
  RotationSetting,
  SettingsPort,
} from '../../lib/aws/bucket-settings.js';
import type { Finding } from '../../lib/engine/types.js';
import type { ScanEvidence } from '../../lib/evidence/types.js';
import { type FixPlan, planFixes } from '../../lib/remediation/plan.js';
import type { FixRecordStore } from '../../lib/report-store/types.js';
import { evaluateScan } from '../../lib/scan/evaluate-scan.js';
import { noSuchBucketPolicy } from './aws-errors.js';

/** A plan made from evidence as `s3scan fix` makes it: the scan judged, then planned. */
export function planOf(
  evidence: ScanEvidence,
  filters = {},
): { plan: FixPlan; findings: Finding[] } {
  const { findings } = evaluateScan(evidence);
  const byName = new Map(evidence.buckets.map((b) => [b.name, b]));
  const plan = planFixes({
    scanId: evidence.scanId,
    findings,
    evidenceOf: (f) => {
      const bucket = byName.get(f.resource.name);
      return bucket && { bucket, kmsKeys: evidence.kmsKeys };
    },
    filters,
    now: new Date('2026-12-07T06:00:00.000Z'),
  });
  return { plan, findings };
}

type Operation = keyof SettingsPort;

/**
 * Bucket and key settings held in memory behind the settings port, as AWS would hold them
 * after each call: what a fix run reads and writes in unit tests. Errors can be queued per
 * operation (thrown by the next calls, in order); each write can be delayed; every call is
 * logged, and the most writes in flight at once on one bucket or key is kept.
 */
export class SettingsWorld implements SettingsPort {
  public readonly policies = new Map<string, string>();
  public readonly encryption = new Map<string, EncryptionSetting>();
  public readonly rotation = new Map<string, RotationSetting>();
  public readonly log: string[] = [];
  /** The inputs of each write, in order. */
  public readonly writes: { op: Operation; target: string; value?: unknown }[] = [];
  public maxWritesInFlight = 0;
  /** A write's effect is kept or dropped after its error: what a timed-out write may do. */
  private readonly failures = new Map<Operation, { error: unknown; landed?: boolean }[]>();
  private readonly inFlight = new Map<string, number>();

  public constructor(private readonly writeDelayMs = 0) {}

  /** The next calls of `op` throw these errors, one each; `null` lets that call through. */
  public failNext(op: Operation, ...errors: unknown[]): this {
    this.failures.set(op, [
      ...(this.failures.get(op) ?? []),
      ...errors.map((error) => ({ error })),
    ]);
    return this;
  }

  /** The next call of `op` changes the setting, then throws `error` (a timed-out answer). */
  public landThenFail(op: Operation, error: unknown): this {
    this.failures.set(op, [...(this.failures.get(op) ?? []), { error, landed: true }]);
    return this;
  }

  private async call<T>(op: Operation, target: string, effect: () => T): Promise<T> {
    this.log.push(`${op} ${target}`);
    const queued = this.failures.get(op)?.shift();
    const failure = queued?.error === null ? undefined : queued;
    if (failure && !failure.landed) throw failure.error;
    const result = effect();
    if (failure) throw failure.error;
    return result;
  }

  private async write(op: Operation, target: string, value: unknown, effect: () => void) {
    const now = (this.inFlight.get(target) ?? 0) + 1;
    this.inFlight.set(target, now);
    this.maxWritesInFlight = Math.max(this.maxWritesInFlight, now);
    try {
      if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
      await this.call(op, target, effect);
      this.writes.push({ op, target, ...(value === undefined ? {} : { value }) });
    } finally {
      this.inFlight.set(target, (this.inFlight.get(target) ?? 1) - 1);
    }
  }

  public readPolicy(at: BucketAddress) {
    return this.call('readPolicy', at.bucket, () => {
      const text = this.policies.get(at.bucket);
      if (text === undefined) throw noSuchBucketPolicy();
      return text;
    }).catch((error: { name?: string }) => {
      if (error.name === 'NoSuchBucketPolicy') return undefined;
      throw error;
    });
  }
  public putPolicy(at: BucketAddress, policy: string) {
    return this.write('putPolicy', at.bucket, policy, () => this.policies.set(at.bucket, policy));
  }
  public deletePolicy(at: BucketAddress) {
    return this.write('deletePolicy', at.bucket, undefined, () => this.policies.delete(at.bucket));
  }
  public readEncryption(at: BucketAddress) {
    return this.call('readEncryption', at.bucket, () => this.encryption.get(at.bucket));
  }
  public putEncryption(at: BucketAddress, setting: EncryptionSetting) {
    return this.write('putEncryption', at.bucket, setting, () =>
      this.encryption.set(at.bucket, setting),
    );
  }
  public deleteEncryption(at: BucketAddress) {
    return this.write('deleteEncryption', at.bucket, undefined, () =>
      this.encryption.delete(at.bucket),
    );
  }
  public readRotation(keyArn: string) {
    return this.call(
      'readRotation',
      keyArn,
      () => this.rotation.get(keyArn) ?? { KeyRotationEnabled: false },
    );
  }
  public enableRotation(keyArn: string, days: number) {
    return this.write('enableRotation', keyArn, days, () =>
      this.rotation.set(keyArn, { KeyRotationEnabled: true, RotationPeriodInDays: days }),
    );
  }
  public disableRotation(keyArn: string) {
    return this.write('disableRotation', keyArn, undefined, () =>
      this.rotation.set(keyArn, { KeyRotationEnabled: false }),
    );
  }
}

/** Fix records in memory, with the store's contract: `create` succeeds once per name. */
export class MemoryRecords implements FixRecordStore {
  public readonly records = new Map<string, unknown>();

  public async ids() {
    return [...new Set([...this.records.keys()].map((k) => k.split('/')[0] ?? ''))].sort();
  }

  public async list(id: string) {
    return [...this.records.keys()]
      .filter((k) => k.startsWith(`${id}/`))
      .map((k) => k.slice(id.length + 1));
  }
  public async read(id: string, name: string) {
    const record = this.records.get(`${id}/${name}`);
    return record === undefined ? undefined : structuredClone(record);
  }
  public async create(id: string, name: string, record: unknown) {
    if (this.records.has(`${id}/${name}`)) return false;
    this.records.set(`${id}/${name}`, structuredClone(record));
    return true;
  }
  public async write(id: string, name: string, record: unknown) {
    this.records.set(`${id}/${name}`, structuredClone(record));
  }
  public describe(id: string) {
    return `memory:fixes/${id}`;
  }
}

/** The settings the evidence saw, held by a world: AWS as it was at the scan. */
export function worldOf(evidence: ScanEvidence, writeDelayMs = 0): SettingsWorld {
  const world = new SettingsWorld(writeDelayMs);
  for (const bucket of evidence.buckets) {
    if ('ok' in bucket.policy) world.policies.set(bucket.name, bucket.policy.ok);
    if ('ok' in bucket.encryption)
      world.encryption.set(bucket.name, structuredClone(bucket.encryption.ok));
  }
  for (const key of Object.values(evidence.kmsKeys))
    if (key.rotation && 'ok' in key.rotation)
      world.rotation.set(key.ref, {
        KeyRotationEnabled: key.rotation.ok.KeyRotationEnabled === true,
        ...(key.rotation.ok.RotationPeriodInDays
          ? { RotationPeriodInDays: key.rotation.ok.RotationPeriodInDays }
          : {}),
      });
  return world;
}
