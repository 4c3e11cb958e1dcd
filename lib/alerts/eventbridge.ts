import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { bytes, type CallAnswer, pack, withEntryRetries } from './aws-batch.js';
import { findingOf, selectChanges } from './select.js';
import {
  type AlertBatch,
  type AlertDigest,
  type AlertEntry,
  type AlertSink,
  type BatchOutcome,
  filterOf,
} from './sink.js';

/** PutEvents limits (alerts-orgs-dashboard.md A.2). */
export const EVENTBRIDGE_LIMITS = {
  entries: 10,
  /** The request's entries must total under 256 KB. */
  requestBytes: 262_143,
} as const;

export const EVENT_SOURCE = 's3scan';
export const DETAIL_TYPES = {
  finding: 's3scan Finding Changed',
  scan: 's3scan Scan Completed',
} as const;

/** One custom event. */
export interface S3scanEvent {
  detailType: string;
  detail: string;
  resources: string[];
}

/** Error codes PutEvents reports per entry that mean "try again" (the rest never succeed). */
const RETRIABLE = new Set(['InternalFailure', 'ThrottlingException']);

/** The entry's size as EventBridge counts it: Source, DetailType, Detail, Resources (UTF-8). */
export function entrySize(event: S3scanEvent): number {
  return (
    bytes(EVENT_SOURCE) +
    bytes(event.detailType) +
    bytes(event.detail) +
    event.resources.reduce((n, r) => n + bytes(r), 0)
  );
}

/** A detail that fits: the finding's details, then its message, give way to the limit. */
function fitDetail(
  detail: Record<string, unknown> & { finding?: Record<string, unknown> },
): string {
  let text = JSON.stringify(detail);
  if (bytes(text) <= EVENTBRIDGE_LIMITS.requestBytes - 4096 || !detail.finding) return text;
  const finding: Record<string, unknown> = { ...detail.finding, details: { truncated: true } };
  text = JSON.stringify({ ...detail, finding, truncated: true });
  if (bytes(text) <= EVENTBRIDGE_LIMITS.requestBytes - 4096) return text;
  return JSON.stringify({
    ...detail,
    finding: { ...finding, message: String(finding.message ?? '').slice(0, 4096) },
    truncated: true,
  });
}

/**
 * Custom events on a bus (`source: s3scan`): one "s3scan Scan Completed" per scan with the
 * counts, and one "s3scan Finding Changed" per change, so users route them with rules.
 * PutEvents: 10 entries and 256 KB per call; entries failed with InternalFailure or
 * ThrottlingException are sent again, the rest reported.
 */
export class EventBridgeSink implements AlertSink<S3scanEvent> {
  public readonly name = 'eventbridge';
  public readonly idempotent = false;

  public constructor(
    private readonly options: { events: EventBridgeClient; busName: string; baseDelayMs?: number },
  ) {}

  public plan(digest: AlertDigest): AlertBatch<S3scanEvent>[] {
    const { drift } = digest;
    const selected = selectChanges(drift, filterOf(digest.settings, digest.settings?.eventBridge));
    const quiet = digest.baseline && digest.settings?.baseline !== 'send';
    const entries: AlertEntry<S3scanEvent>[] = [
      {
        id: 'scan-completed',
        payload: {
          detailType: DETAIL_TYPES.scan,
          detail: JSON.stringify({
            scanId: drift.to.scanId,
            scanTime: drift.to.scanTime,
            previousScanId: digest.baseline ? null : drift.from.scanId,
            accountId: drift.scope.accountId,
            scope: drift.scope,
            baseline: digest.baseline ?? false,
            counts: drift.counts,
            expiringSuppressions: (digest.expiring ?? []).map((f) => ({
              fingerprint: f.fingerprint,
              ruleId: f.ruleId,
              bucket: f.resource.name,
              expires: f.suppression?.expires,
            })),
            ...(digest.link ? { link: digest.link } : {}),
            ...(digest.cause ? { cause: digest.cause } : {}),
          }),
          resources: [],
        },
      },
    ];
    if (!quiet)
      for (const { kind, entry } of selected) {
        const f = findingOf(entry);
        entries.push({
          id: `${kind}-${entry.fingerprint}`,
          payload: {
            detailType: DETAIL_TYPES.finding,
            detail: fitDetail({
              change: kind,
              scanId: drift.to.scanId,
              previousScanId: drift.from.scanId,
              previousStatus: entry.previous?.status ?? null,
              severity: f.severity,
              ...(entry.firstSeen ? { firstSeen: entry.firstSeen } : {}),
              lastSeen: entry.lastSeen,
              finding: f as unknown as Record<string, unknown>,
            }),
            resources: [f.resource.arn],
          },
        });
      }
    return pack(entries, (e) => entrySize(e.payload), {
      maxEntries: EVENTBRIDGE_LIMITS.entries,
      maxBytes: EVENTBRIDGE_LIMITS.requestBytes,
    }).map((batch, i) => ({ id: `batch-${String(i).padStart(4, '0')}`, entries: batch }));
  }

  public preview(entry: AlertEntry<S3scanEvent>): string {
    return `eventbridge ${this.options.busName}: ${entry.payload.detailType} ${entry.id}`;
  }

  public deliver(batch: AlertBatch<S3scanEvent>, signal?: AbortSignal): Promise<BatchOutcome> {
    return withEntryRetries(
      batch.entries,
      async (entries): Promise<CallAnswer> => {
        const out = await this.options.events.send(
          new PutEventsCommand({
            Entries: entries.map(
              (e): PutEventsRequestEntry => ({
                Source: EVENT_SOURCE,
                DetailType: e.payload.detailType,
                Detail: e.payload.detail,
                Resources: e.payload.resources,
                EventBusName: this.options.busName,
              }),
            ),
          }),
          signal ? { abortSignal: signal } : {},
        );
        // Each result has the index of its request entry.
        const answer: CallAnswer = { delivered: [], failed: [] };
        (out.Entries ?? []).forEach((result, i) => {
          const id = entries[i]?.id;
          if (id === undefined) return;
          if (result.EventId && !result.ErrorCode) answer.delivered.push(id);
          else
            answer.failed.push({
              id,
              code: result.ErrorCode ?? 'Unknown',
              reason: `${result.ErrorCode}: ${result.ErrorMessage ?? ''}`,
              kind: RETRIABLE.has(result.ErrorCode ?? '') ? 'retry' : 'permanent',
            });
        });
        return answer;
      },
      {
        signal,
        baseDelayMs: this.options.baseDelayMs,
      },
    );
  }
}
