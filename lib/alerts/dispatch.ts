import { hostname } from 'node:os';
import pLimit from 'p-limit';
import { alive } from '../report-store/local-swap.js';
import type { AlertLedgerStore } from '../report-store/types.js';
import type { AlertBatch, AlertDigest, AlertSink, BatchOutcome, EntryFailure } from './sink.js';

/** What one sink did in one run, and what is still outstanding from earlier runs. */
export interface SinkReport {
  sink: string;
  /**
   * `sent`: every entry is delivered (now or before). `nothing-to-send`: no change passed the
   * filter. `partial`: some entries are delivered, some failed. `failed`: none could be.
   * `dry-run`: nothing was sent; `preview` says what would have been.
   */
  status: 'sent' | 'nothing-to-send' | 'partial' | 'failed' | 'dry-run';
  /** Entries the digest called for. */
  planned: number;
  /** Delivered by this run. */
  sent: number;
  /** Delivered by an earlier run of the same scan: not sent again. */
  alreadySent: number;
  /** Entries not delivered, with the reason and whether a later run will try again. */
  failed: EntryFailure[];
  preview?: string[];
  /** A failure of the whole sink (its planning, or the ledger). */
  error?: string;
  /** Every entry id delivered, by this run or before; kept in memory, not in the outcome. */
  deliveredIds?: string[];
}

/** The alert outcome of one scan, recorded in the ledger as `outcome` and shown by the CLI. */
export interface AlertReport {
  scanId: string;
  at: string;
  sinks: SinkReport[];
  /** True when no sink has an undelivered entry. */
  ok: boolean;
}

/** A later run gives a batch up after this many attempts (each a ledger claim). */
export const MAX_BATCH_ATTEMPTS = 5;

interface Claim {
  at: string;
  entries: string[];
  /** The claiming process: a claim without `sending` is left only by one that is gone. */
  host?: string;
  pid?: number;
}

/**
 * A claim without `sending` older than this is taken as left by a run that stopped: a live
 * run writes `sending` right after its claim (one ledger write, bounded by the store's call
 * deadline of 5 minutes).
 */
const CLAIM_WITHOUT_SENDING_MS = 10 * 60_000;

/**
 * Whether the run that made a claim stopped before sending: its process on this host is gone,
 * or the claim is older than any live run takes to record `sending`. Until then another run
 * may be between the two writes, and sending too would send twice.
 */
function claimAbandoned(claim: Claim | undefined, now: string): boolean {
  if (!claim) return false;
  if (claim.host === hostname() && claim.pid !== undefined && claim.pid !== process.pid)
    if (!alive(claim.pid)) return true;
  return Date.parse(now) - Date.parse(claim.at) > CLAIM_WITHOUT_SENDING_MS;
}

/** The ledger's view of one batch: what was delivered, what failed how, what is in doubt. */
interface BatchState {
  attempts: number;
  delivered: Set<string>;
  /** The latest failure of each undelivered entry. */
  failures: Map<string, EntryFailure>;
}

async function batchState(
  ledger: AlertLedgerStore,
  scanId: string,
  prefix: string,
  names: ReadonlySet<string>,
  /** The time now, ISO: how old an unanswered claim is. */
  now: string,
): Promise<BatchState> {
  const state: BatchState = { attempts: 0, delivered: new Set(), failures: new Map() };
  for (let attempt = 1; names.has(`${prefix}.${attempt}.claim`); attempt++) {
    state.attempts = attempt;
    const result = names.has(`${prefix}.${attempt}.result`)
      ? ((await ledger.read(scanId, `${prefix}.${attempt}.result`)) as BatchOutcome | undefined)
      : undefined;
    if (!result) {
      const claim = (await ledger
        .read(scanId, `${prefix}.${attempt}.claim`)
        .catch(() => undefined)) as Claim | undefined;
      // A run records `sending` just before the request leaves. Without it the run died
      // between claiming and sending: nothing left, and the next run sends it. With it the
      // request may have arrived: in doubt, resent only when the user asks.
      const left = names.has(`${prefix}.${attempt}.sending`);
      const abandoned = !left && claimAbandoned(claim, now);
      for (const id of claim?.entries ?? [])
        if (!state.delivered.has(id))
          state.failures.set(
            id,
            left
              ? {
                  id,
                  code: 'interrupted',
                  reason: `a run sent this at ${claim?.at ?? 'an unknown time'} and never recorded the answer; it may have arrived (s3scan alert --resend-in-doubt sends it again)`,
                  kind: 'in-doubt',
                }
              : abandoned
                ? {
                    id,
                    code: 'claimed-not-sent',
                    reason: `a run claimed this at ${claim?.at ?? 'an unknown time'} and stopped before sending it`,
                    kind: 'retry',
                  }
                : {
                    id,
                    code: 'claimed-elsewhere',
                    reason: `a run claimed this at ${claim?.at ?? 'an unknown time'} and may still be sending it`,
                    kind: 'in-doubt',
                  },
          );
      continue;
    }
    for (const id of result.delivered) {
      state.delivered.add(id);
      state.failures.delete(id);
    }
    for (const failure of result.failed) state.failures.set(failure.id, failure);
  }
  return state;
}

/** Which entries of a batch this run sends, and which it reports without sending. */
function toSend(
  batch: AlertBatch,
  state: BatchState,
  /** The sink is idempotent, or the user asked to resend what is in doubt (at-least-once). */
  resendInDoubt: boolean,
): { send: AlertBatch['entries']; keep: EntryFailure[] } {
  const send: AlertBatch['entries'] = [];
  const keep: EntryFailure[] = [];
  for (const entry of batch.entries) {
    if (state.delivered.has(entry.id)) continue;
    const failure = state.failures.get(entry.id);
    const again =
      !failure || failure.kind === 'retry' || (failure.kind === 'in-doubt' && resendInDoubt);
    if (again && state.attempts < MAX_BATCH_ATTEMPTS) send.push(entry);
    else if (failure) keep.push(failure);
    else
      keep.push({
        id: entry.id,
        code: 'attempts-exhausted',
        reason: `not sent after ${MAX_BATCH_ATTEMPTS} attempts`,
        kind: 'permanent',
      });
  }
  return { send, keep };
}

/** Runs one sink over its batches, sequentially (every far end has a rate limit). */
async function runSink(
  sink: AlertSink,
  digest: AlertDigest,
  scanId: string,
  ledger: AlertLedgerStore,
  names: ReadonlySet<string>,
  options: { dryRun: boolean; signal?: AbortSignal; now: () => string; resendInDoubt: boolean },
): Promise<SinkReport> {
  const report: SinkReport = {
    sink: sink.name,
    status: 'sent',
    planned: 0,
    sent: 0,
    alreadySent: 0,
    failed: [],
  };
  const batches = sink.plan(digest);
  report.planned = batches.reduce((n, b) => n + b.entries.length, 0);
  if (options.dryRun) report.preview = [];
  const limit = pLimit(sink.concurrency ?? 1);
  const delivered: string[] = [];
  const runBatch = async (batch: AlertBatch): Promise<void> => {
    const prefix = `${sink.name}/${batch.id}`;
    const state = await batchState(ledger, scanId, prefix, names, options.now());
    const before = batch.entries.filter((e) => state.delivered.has(e.id));
    report.alreadySent += before.length;
    delivered.push(...before.map((e) => e.id));
    const { send, keep } = toSend(batch, state, sink.idempotent || options.resendInDoubt);
    report.failed.push(...keep);
    if (send.length === 0) return;
    if (options.dryRun) {
      report.preview?.push(...send.map((entry) => sink.preview(entry)));
      return;
    }
    const attempt = state.attempts + 1;
    const claimed = await ledger.create(scanId, `${prefix}.${attempt}.claim`, {
      at: options.now(),
      entries: send.map((e) => e.id),
      host: hostname(),
      pid: process.pid,
    } satisfies Claim);
    if (!claimed) {
      // Another run of this scan claimed the same attempt first: it sends these, not us.
      report.failed.push(
        ...send.map((e) => ({
          id: e.id,
          code: 'claimed-elsewhere',
          reason: 'another run of this scan is sending it',
          kind: 'in-doubt' as const,
        })),
      );
      return;
    }
    await ledger.write(scanId, `${prefix}.${attempt}.sending`, { at: options.now() });
    let outcome: BatchOutcome;
    try {
      outcome = await sink.deliver({ id: batch.id, entries: send }, options.signal);
    } catch (error) {
      // Aborted (or a bug) mid-call: the claim stays unanswered, so the next run knows it is
      // in doubt; say so now as well.
      if (options.signal?.aborted) throw error;
      outcome = {
        delivered: [],
        failed: send.map((e) => ({
          id: e.id,
          code: 'sink-error',
          reason: (error as Error).message,
          kind: 'in-doubt' as const,
        })),
      };
    }
    await ledger.write(scanId, `${prefix}.${attempt}.result`, outcome);
    report.sent += outcome.delivered.length;
    delivered.push(...outcome.delivered);
    report.failed.push(...outcome.failed);
  };
  await Promise.all(batches.map((batch) => limit(() => runBatch(batch))));
  report.deliveredIds = delivered;
  if (options.dryRun) report.status = 'dry-run';
  else if (report.planned === 0) report.status = 'nothing-to-send';
  else if (report.failed.length === 0) report.status = 'sent';
  else report.status = report.sent + report.alreadySent > 0 ? 'partial' : 'failed';
  return report;
}

/**
 * Sends one scan's digest to every sink, exactly once per entry: before a call the batch is
 * claimed in the ledger with a conditional write, just before the request leaves `sending` is
 * recorded, after it the answer, so a retried Lambda or a re-run `s3scan alert` skips what was
 * delivered, sends what was claimed but never left, re-sends what was refused for a passing
 * reason, and never re-sends what may have arrived (unless the sink is idempotent or the user
 * asks with `resendInDoubt`). One sink that fails never stops the others.
 */
export async function dispatchAlerts(
  scanId: string,
  digest: AlertDigest,
  sinks: readonly AlertSink[],
  ledger: AlertLedgerStore,
  options: {
    dryRun?: boolean;
    signal?: AbortSignal;
    now?: () => string;
    /**
     * Sinks whose in-doubt entries (sent, answer never recorded) are sent again: the user
     * chooses at-least-once over at-most-once for them. `*` names every sink.
     */
    resendInDoubt?: ReadonlySet<string>;
  } = {},
): Promise<AlertReport> {
  const now = options.now ?? (() => new Date().toISOString());
  const names = new Set(await ledger.list(scanId));
  const reports: SinkReport[] = [];
  // One sink after another: a crash between two sinks leaves nothing in doubt, and the next
  // run starts at the sink that was not reached.
  for (const sink of sinks) {
    try {
      reports.push(
        await runSink(sink, digest, scanId, ledger, names, {
          dryRun: options.dryRun ?? false,
          now,
          resendInDoubt:
            options.resendInDoubt?.has(sink.name) === true ||
            options.resendInDoubt?.has('*') === true,
          signal: options.signal,
        }),
      );
    } catch (error) {
      if (options.signal?.aborted) throw error;
      reports.push({
        sink: sink.name,
        status: 'failed',
        planned: 0,
        sent: 0,
        alreadySent: 0,
        failed: [],
        error: (error as Error).message,
      });
    }
  }
  const report: AlertReport = {
    scanId,
    at: now(),
    sinks: reports,
    ok: reports.every((r) => r.failed.length === 0 && !r.error),
  };
  if (!options.dryRun)
    await ledger.write(scanId, 'outcome', {
      ...report,
      sinks: reports.map(({ deliveredIds: _ids, ...rest }) => rest),
    });
  return report;
}
