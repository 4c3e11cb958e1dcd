import pLimit from 'p-limit';
import type { SettingsPort } from '../aws/bucket-settings.js';
import { errorCode, httpStatus } from '../aws/errors.js';
import type { Finding } from '../engine/types.js';
import type { AlertLedgerStore } from '../report-store/types.js';
import type { BucketFix, FixPlan } from './plan.js';
import { fixRecordId } from './records.js';
import { canonicalJson, laneOf, type SettingKind, settingKind } from './settings.js';

/**
 * Applying a fix plan, and undoing it (issue 26, items 2 and 3). Per fix: re-read the setting
 * and refuse it when it changed since the scan; save the setting as read in the fix's record
 * *before* writing, so that a run killed mid-write leaves what `--undo` needs; write; read it
 * back. Writes to one bucket (or one key) go one at a time. The rescan that proves the
 * verdicts is the host's: `proveFixes` reads its findings.
 */

/** What became of one fix of a plan, applied or undone. */
export interface FixResult {
  bucket: string;
  account: string;
  region: string;
  rule: string;
  fingerprint: string;
  setting: BucketFix['setting'];
  /**
   * `applied`: written (and `verified` says whether the read-back matches). `already`: the
   * setting already held the value; nothing written. `refused`: not written, `reason` says
   * why. `failed`: the write failed; `reason` says what the setting is now.
   */
  status: 'applied' | 'already' | 'refused' | 'failed';
  reason?: string;
  /** The setting as read just before the write: what `--undo` restores. */
  previous?: unknown;
  /** The setting as read after the write. */
  readBack?: unknown;
  /** The read-back is the value written. */
  verified?: boolean;
  /** The AWS calls made, reads included, in order. */
  calls: string[];
  /** The verdict of the rescan that followed, by the finding's fingerprint. */
  verdict?: { status: Finding['status']; message: string };
}

/** One run of `--apply` or `--undo`: stored as `fixes/<fixId>/runs/<startedAt>-<mode>.json`. */
export interface FixOutcome {
  schemaVersion: '1';
  fixId: string;
  mode: 'apply' | 'undo';
  /** The caller (its ARN): who changed the settings. */
  by: string;
  startedAt: string;
  finishedAt: string;
  results: FixResult[];
  /** The rescan that judged the buckets afterwards. */
  rescanId?: string;
}

/** What a fix run needs: the settings, the fix's records, and who it is. */
export interface FixPorts {
  settings: SettingsPort;
  records: AlertLedgerStore;
  /** The caller's ARN, recorded as who applied the fix. */
  by: string;
  /** The caller's account: a fix of another account's bucket is refused. */
  account?: string;
  now?: () => Date;
  /** Waits between OperationAborted retries (tests pass one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
  /** Buckets (and keys) written at once; one write at a time on each. Default 8. */
  concurrency?: number;
}

/** The record a fix saves before its write. */
export interface SavedSetting {
  fixId: string;
  fix: BucketFix;
  previous: unknown;
  at: string;
  by: string;
}

export { fixRecordId } from './records.js';

/** An SDK error as a person reads it: code, status, message. */
export function describeError(error: unknown): string {
  const status = httpStatus(error);
  const raw = (error as Error)?.message;
  // The SDK's parse failure quotes the body it could not read (an HTML 404 page, say).
  const message = raw?.includes('Deserialization error')
    ? 'the answer was not one AWS gives (the endpoint may not implement this call)'
    : raw;
  return `${errorCode(error)}${status ? ` (HTTP ${status})` : ''}${message && message !== errorCode(error) ? `: ${message}` : ''}`;
}

/** S3 answers 409 OperationAborted while another config write to the bucket is in flight. */
const RETRIED = new Set(['OperationAborted']);
const WRITE_ATTEMPTS = 4;

async function withRetry<T>(ports: FixPorts, call: () => Promise<T>): Promise<T> {
  const sleep = ports.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= WRITE_ATTEMPTS || !RETRIED.has(errorCode(error))) throw error;
      await sleep(200 * 2 ** (attempt - 1));
    }
  }
}

/** How a setting changed between two readings, in words. */
export function changeOf(kind: SettingKind, fix: BucketFix, was: unknown, now: unknown): string {
  if (was === null || was === undefined) return `there was no ${fix.setting}, and now there is one`;
  if (now === null || now === undefined) return `the ${fix.setting} was removed`;
  if (fix.setting === 'bucket policy') {
    const statements = (p: unknown) => {
      const s = (p as { Statement?: unknown }).Statement;
      return (Array.isArray(s) ? s : s === undefined ? [] : [s]).map(canonicalJson);
    };
    const before = statements(was);
    const after = statements(now);
    const added = after.filter((s) => !before.includes(s)).length;
    const removed = before.filter((s) => !after.includes(s)).length;
    return added + removed > 0
      ? `the bucket policy has ${added} statement(s) added and ${removed} removed`
      : 'the bucket policy changed outside its statements (Version or Id)';
  }
  if (fix.setting === 'key rotation') {
    const status = (v: unknown) => {
      const r = v as { KeyRotationEnabled?: boolean; RotationPeriodInDays?: number };
      return r.KeyRotationEnabled
        ? `on${r.RotationPeriodInDays ? ` every ${r.RotationPeriodInDays} days` : ''}`
        : 'off';
    };
    return `the key's rotation was ${status(was)} and is ${status(now)}`;
  }
  return kind.same(was, now)
    ? 'nothing'
    : `the default encryption was ${canonicalJson(was)} and is ${canonicalJson(now)}`;
}

type ResultDetails = Pick<FixResult, 'status' | 'reason' | 'previous' | 'readBack' | 'verified'>;

function resultOf(fix: BucketFix, calls: string[], details: ResultDetails): FixResult {
  return {
    bucket: fix.bucket,
    account: fix.account,
    region: fix.region,
    rule: fix.rule,
    fingerprint: fix.fingerprint,
    setting: fix.setting,
    ...details,
    calls,
  };
}

/**
 * Writes `value` over the setting and reads it back: the write's error, if any, judged by what
 * the read-back shows (a write that timed out may have landed; one that failed may have not).
 */
async function writeAndReadBack(
  ports: FixPorts,
  kind: SettingKind,
  fix: BucketFix,
  value: unknown,
  previous: unknown,
  calls: string[],
): Promise<Pick<FixResult, 'status' | 'reason' | 'readBack' | 'verified'>> {
  let writeError: unknown;
  try {
    await withRetry(ports, () => kind.write(ports.settings, fix, value, calls));
  } catch (error) {
    writeError = error;
  }
  let readBack: unknown;
  let readError: unknown;
  try {
    calls.push(kind.readApi);
    readBack = await kind.read(ports.settings, fix);
  } catch (error) {
    readError = error;
  }
  const verified = readError === undefined && kind.same(readBack, value);
  const shown = readError === undefined ? { readBack } : {};
  if (writeError === undefined)
    return {
      status: 'applied',
      ...shown,
      verified,
      ...(verified
        ? {}
        : {
            reason:
              readError !== undefined
                ? `written, but the read-back failed (${describeError(readError)})`
                : `written, but the read-back is not what was written: ${changeOf(kind, fix, value, readBack)}`,
          }),
    };
  const failure = `the write failed (${describeError(writeError)})`;
  if (verified)
    return {
      status: 'applied',
      ...shown,
      verified,
      reason: `${failure}, yet the read-back shows it landed`,
    };
  return {
    status: 'failed',
    ...shown,
    verified: false,
    reason:
      readError !== undefined
        ? `${failure}, and the read-back failed too (${describeError(readError)}): whether it landed is unknown; the saved setting lets --undo restore it`
        : kind.same(readBack, previous)
          ? `${failure}; the setting is unchanged`
          : `${failure}, and the setting is neither as before nor as planned: ${changeOf(kind, fix, previous, readBack)}`,
  };
}

/** The setting as it is now, or why it could not be read. */
async function reRead(
  ports: FixPorts,
  kind: SettingKind,
  fix: BucketFix,
  calls: string[],
): Promise<{ current: unknown } | { failed: string }> {
  try {
    calls.push(kind.readApi);
    return { current: await kind.read(ports.settings, fix) };
  } catch (error) {
    return { failed: `could not re-read the ${fix.setting} (${describeError(error)})` };
  }
}

/** Runs each fix in its lane: one at a time per bucket or key, `concurrency` lanes at once. */
async function inLanes<T>(
  fixes: readonly T[],
  laneKey: (item: T) => string,
  concurrency: number,
  run: (item: T) => Promise<FixResult>,
): Promise<FixResult[]> {
  const lanes = new Map<string, number[]>();
  fixes.forEach((item, i) => {
    const key = laneKey(item);
    lanes.set(key, [...(lanes.get(key) ?? []), i]);
  });
  const results: FixResult[] = new Array(fixes.length);
  const limit = pLimit(concurrency);
  await Promise.all(
    [...lanes.values()].map((indexes) =>
      limit(async () => {
        for (const i of indexes) results[i] = await run(fixes[i] as T);
      }),
    ),
  );
  return results;
}

/**
 * Applies a stored plan's fixes. Each setting is re-read first: one that changed since the
 * scan is refused (the change said), one that already holds the fix's value is left alone. The
 * setting as read is saved before the write (`apply/<id>.previous`, created once: a second run
 * of the same fix finds it and refuses), and the result after it (`apply/<id>.result`).
 */
export async function applyPlan(plan: FixPlan, ports: FixPorts): Promise<FixOutcome> {
  const now = ports.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const results = await inLanes(plan.fixes, laneOf, ports.concurrency ?? 8, async (fix) => {
    const kind = settingKind(fix);
    const calls: string[] = [];
    if (ports.account !== undefined && fix.account !== ports.account)
      return resultOf(fix, calls, {
        status: 'refused',
        reason: `the bucket is in account ${fix.account} and these credentials are of account ${ports.account}; nothing was written (apply it with that account's credentials)`,
      });
    const read = await reRead(ports, kind, fix, calls);
    if ('failed' in read)
      return resultOf(fix, calls, {
        status: 'failed',
        reason: `${read.failed}; nothing was written`,
      });
    const { current } = read;
    if (kind.same(current, fix.after))
      return resultOf(fix, calls, {
        status: 'already',
        previous: current,
        reason: `the ${fix.setting} already is what the fix writes; nothing was written`,
      });
    if (!kind.same(current, fix.before))
      return resultOf(fix, calls, {
        status: 'refused',
        previous: current,
        reason: `changed since scan ${plan.scanId}: ${changeOf(kind, fix, fix.before, current)}; nothing was written (rescan, then plan again)`,
      });
    const id = fixRecordId(fix);
    const saved: SavedSetting = {
      fixId: plan.fixId,
      fix,
      previous: current,
      at: now().toISOString(),
      by: ports.by,
    };
    if (!(await ports.records.create(plan.fixId, `apply/${id}.previous`, saved)))
      return resultOf(fix, calls, {
        status: 'refused',
        reason: `an earlier run of fix ${plan.fixId} already applied it; nothing was written (s3scan fix --undo ${plan.fixId} restores it)`,
      });
    const outcome = await writeAndReadBack(ports, kind, fix, fix.after, current, calls);
    const result = resultOf(fix, calls, { previous: current, ...outcome });
    await ports.records.write(plan.fixId, `apply/${id}.result`, result);
    return result;
  });
  return {
    schemaVersion: '1',
    fixId: plan.fixId,
    mode: 'apply',
    by: ports.by,
    startedAt,
    finishedAt: now().toISOString(),
    results,
  };
}

/** The saved settings of a fix: every `apply/<id>.previous` record, whatever became of its write. */
export async function savedSettings(
  records: AlertLedgerStore,
  fixId: string,
): Promise<SavedSetting[]> {
  const names = (await records.list(fixId))
    .filter((name) => /^apply\/.+\.previous$/.test(name))
    .sort();
  const saved = await Promise.all(names.map((name) => records.read(fixId, name)));
  return saved.filter((s): s is SavedSetting => s !== undefined);
}

/**
 * Undoes a fix: each saved setting written back, where the setting still is what the fix wrote.
 * One changed since (by someone else) is refused and left alone; one already as saved (its
 * write never landed: a run killed before it, or undone before) needs nothing.
 */
export async function undoFix(fixId: string, ports: FixPorts): Promise<FixOutcome> {
  const now = ports.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const saved = await savedSettings(ports.records, fixId);
  const results = await inLanes(
    saved,
    (s) => laneOf(s.fix),
    ports.concurrency ?? 8,
    async ({ fix, previous }) => {
      const kind = settingKind(fix);
      const calls: string[] = [];
      const read = await reRead(ports, kind, fix, calls);
      if ('failed' in read)
        return resultOf(fix, calls, {
          status: 'failed',
          previous,
          reason: `${read.failed}; nothing was restored`,
        });
      const { current } = read;
      let result: FixResult;
      if (kind.same(current, previous))
        result = resultOf(fix, calls, {
          status: 'already',
          previous,
          reason: `the ${fix.setting} already is as it was before the fix; nothing was written`,
        });
      else if (!kind.same(current, fix.after))
        result = resultOf(fix, calls, {
          status: 'refused',
          previous,
          reason: `changed since the fix: ${changeOf(kind, fix, fix.after, current)}; nothing was restored`,
        });
      else {
        const outcome = await writeAndReadBack(ports, kind, fix, previous, fix.after, calls);
        result = resultOf(fix, calls, { previous, ...outcome });
      }
      await ports.records.write(fixId, `undo/${fixRecordId(fix)}.result`, result);
      return result;
    },
  );
  return {
    schemaVersion: '1',
    fixId,
    mode: 'undo',
    by: ports.by,
    startedAt,
    finishedAt: now().toISOString(),
    results,
  };
}

/** The buckets a run changed or found changed: the ones its rescan must read. */
export function bucketsToRescan(
  outcome: FixOutcome,
): { account: string; region: string; bucket: string }[] {
  const seen = new Map<string, { account: string; region: string; bucket: string }>();
  for (const r of outcome.results)
    if (r.status === 'applied' || r.status === 'already' || r.status === 'failed')
      seen.set(`${r.account}/${r.bucket}`, {
        account: r.account,
        region: r.region,
        bucket: r.bucket,
      });
  return [...seen.values()];
}

/** Each fix's verdict in the rescan's findings, by fingerprint: proven PASS, or why not. */
export function proveFixes(
  outcome: FixOutcome,
  rescanId: string,
  findings: readonly Finding[],
): FixOutcome {
  const byFingerprint = new Map(findings.map((f) => [f.fingerprint, f]));
  return {
    ...outcome,
    rescanId,
    results: outcome.results.map((r) => {
      const finding = byFingerprint.get(r.fingerprint);
      return finding ? { ...r, verdict: { status: finding.status, message: finding.message } } : r;
    }),
  };
}

/** The IAM actions applying these fixes needs: each setting's read, and its write. */
export function actionsToApply(fixes: readonly BucketFix[]): string[] {
  return [
    ...new Set(
      fixes.flatMap((fix) => {
        const kind = settingKind(fix);
        return [kind.readAction, ...kind.writeActions(fix.after)];
      }),
    ),
  ].sort();
}

/** The IAM actions undoing a fix needs: each setting's read, and the write of its saved value. */
export function actionsToUndo(saved: readonly { fix: BucketFix; previous: unknown }[]): string[] {
  return [
    ...new Set(
      saved.flatMap(({ fix, previous }) => {
        const kind = settingKind(fix);
        return [kind.readAction, ...kind.writeActions(previous)];
      }),
    ),
  ].sort();
}
