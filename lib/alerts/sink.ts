import type { Finding } from '../engine/types.js';
import type { Drift } from '../history/drift.js';
import { type AlertSettings, DEFAULT_ALERT_SETTINGS, type SinkFilter } from './settings.js';

/** What every sink is given for one scan: the drift, and where people can read more. */
export interface AlertDigest {
  drift: Drift;
  /** The report or dashboard of the later scan. */
  link?: string;
  /** The account's name or id, as people know it. */
  account: string;
  /** The scan's tool version (Security Hub's ProviderVersion). */
  toolVersion?: string;
  /**
   * The first scan of its scope: nothing to compare with. With `baseline: quiet` sinks send
   * a digest that says so and nothing per finding.
   */
  baseline?: boolean;
  /** Active suppressions that expire within `expiringSuppressionDays`, not warned about before. */
  expiring?: Finding[];
  /** Failing findings unchanged since an earlier scan, due for a Security Hub re-import. */
  reimport?: Finding[];
  /** The `alerts:` settings the digest was made with (defaults when absent). */
  settings?: AlertSettings;
  /**
   * What the scan was made for, when it is a rescan: the events that asked for it, such as
   * `s3scan fix --apply fix-…` (a fix proven by this rescan) or CloudTrail event names.
   */
  cause?: string;
}

/** One message (SNS), event (EventBridge), finding (Security Hub) or post (Slack). */
export interface AlertEntry<Payload = unknown> {
  /** Stable across runs of the same scan: the ledger records entries by it. */
  id: string;
  payload: Payload;
}

/** What one API call sends: an SNS PublishBatch, one PutEvents, one BatchImportFindings. */
export interface AlertBatch<Payload = unknown> {
  /** Stable across runs of the same scan (`digest`, `findings-0003`). */
  id: string;
  entries: AlertEntry<Payload>[];
}

/** Why an entry was not delivered, and whether sending it again could duplicate it. */
export interface EntryFailure {
  id: string;
  code: string;
  reason: string;
  /**
   * `retry`: the far end refused it for a passing reason (throttled, 5xx) and did not take
   * it: a later run sends it again. `permanent`: it never will be taken (denied, malformed).
   * `in-doubt`: the connection broke after the request left; it may have arrived, so a sink
   * that is not idempotent never sends it again.
   */
  kind: 'retry' | 'permanent' | 'in-doubt';
}

/** What one call (with its own retries of failed entries) achieved. */
export interface BatchOutcome {
  delivered: string[];
  failed: EntryFailure[];
}

/**
 * A place alerts go (Slack, SNS, EventBridge, Security Hub). `plan` is pure and
 * deterministic: the same digest gives the same batches with the same ids, which is what lets
 * the ledger resume a half-sent scan. `deliver` never throws for a refusal (it reports it per
 * entry) and never puts the sink's secret (a webhook URL) in a reason.
 */
export interface AlertSink<Payload = unknown> {
  readonly name: string;
  /** Sending an entry twice cannot show it twice (Security Hub: same Id and UpdatedAt). */
  readonly idempotent: boolean;
  /** Batches in flight at once (default 1); the sink paces its own calls. */
  readonly concurrency?: number;
  plan(digest: AlertDigest): AlertBatch<Payload>[];
  deliver(batch: AlertBatch<Payload>, signal?: AbortSignal): Promise<BatchOutcome>;
  /** One line per entry for `--dry-run`. */
  preview(entry: AlertEntry<Payload>): string;
}

/** Backwards-compatible summary of a sink's work in one run (see {@link AlertReport}). */
export interface SinkResult {
  sink: string;
  /** Entries the far end accepted. */
  delivered: number;
}

/** A sink's own filter, falling back to the section's. */
export function filterOf(settings: AlertSettings | undefined, own: SinkFilter | undefined) {
  return {
    minSeverity: own?.minSeverity ?? settings?.minSeverity ?? DEFAULT_ALERT_SETTINGS.minSeverity,
    changes: own?.changes ?? settings?.changes ?? DEFAULT_ALERT_SETTINGS.changes,
    rules: own?.rules ?? settings?.rules ?? [],
    accounts: own?.accounts ?? settings?.accounts ?? [],
  } satisfies Required<SinkFilter>;
}
