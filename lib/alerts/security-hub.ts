import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { Finding } from '../engine/types.js';
import { toAsff } from '../export/asff.js';
import { bytes, type CallAnswer, CallPacer, pack, withEntryRetries } from './aws-batch.js';
import type { ChangeKind, DriftEntry } from './drift.js';
import { passes, selectChanges } from './select.js';
import {
  type AlertBatch,
  type AlertDigest,
  type AlertEntry,
  type AlertSink,
  type BatchOutcome,
  filterOf,
} from './sink.js';

/** BatchImportFindings limits (alerts-orgs-dashboard.md A.3). */
export const SECURITY_HUB_LIMITS = {
  findingsPerCall: 100,
  findingBytes: 240 * 1024,
  batchBytes: 6 * 1024 * 1024,
  /** 10 calls per second sustained: 1,000 findings/s is the ceiling. */
  callsPerSecond: 10,
} as const;

/** What Security Hub is told about one finding. */
export interface SecurityHubEntry {
  region: string;
  account: string;
  asff: AwsSecurityFinding;
}

/** FailedFindings codes worth another call; the rest (InvalidAccess, InvalidInput) are not. */
const RETRIABLE = /Throttl|Internal|LimitExceeded|ServiceUnavailable/i;

/** Change kinds imported by default: every change; `still-failing` only when due. */
const IMPORTED: ChangeKind[] = ['new', 'regressed', 'unverifiable', 'resolved', 'gone'];

/**
 * The ASFF of one change, with the lifecycle Security Hub expects: the same `Id` every scan,
 * `FirstObservedAt`/`CreatedAt` from when the FAIL was first seen, `UpdatedAt`/
 * `LastObservedAt` the scan time (later every scan, so the update is applied), `Compliance`
 * PASSED for a resolved finding, `RecordState` ARCHIVED only for a gone resource, severity
 * through `FindingProviderFields` (a user's own change survives), and no `Workflow`: that is
 * the user's.
 */
export function securityHubFinding(
  kind: ChangeKind,
  entry: DriftEntry,
  scan: { scanTime: string; toolVersion: string },
): AwsSecurityFinding {
  const finding: Finding = entry.current ?? entry.previous!;
  const base = toAsff(finding, scan, entry.firstSeen ?? entry.failingSince);
  const firstSeen = entry.firstSeen ?? entry.failingSince ?? scan.scanTime;
  const severity =
    kind === 'resolved'
      ? 'INFORMATIONAL'
      : (entry.previous && kind === 'gone' ? entry.previous : finding).severity.toUpperCase();
  const { Workflow: _workflow, Severity: _severity, Types, ...rest } = base;
  const asff = {
    ...rest,
    CreatedAt: firstSeen,
    FirstObservedAt: firstSeen,
    LastObservedAt: kind === 'gone' ? entry.lastSeen : scan.scanTime,
    UpdatedAt: scan.scanTime,
    Severity: { Label: severity },
    FindingProviderFields: { Severity: { Label: severity, Original: finding.severity }, Types },
    Types,
    Compliance: {
      ...base.Compliance,
      Status:
        kind === 'resolved' ? 'PASSED' : kind === 'gone' ? 'NOT_AVAILABLE' : base.Compliance.Status,
    },
    RecordState: kind === 'gone' ? 'ARCHIVED' : 'ACTIVE',
    ProductFields: { ...base.ProductFields, 's3scan/Change': kind },
  };
  return asff as AwsSecurityFinding;
}

/**
 * Security Hub CSPM through BatchImportFindings: each change as ASFF, into the finding's own
 * account and region (the caller must be that account: a member account's findings are
 * reported, not sent, until organisation scans assume a role in it). 100 findings and 6 MB a
 * call, at most 10 calls a second, FailedFindings with a passing cause sent again. Sending a
 * finding twice is harmless: the same `Id` and `UpdatedAt` are ignored the second time, so a
 * batch left in doubt by a crash is sent again.
 */
export class SecurityHubSink implements AlertSink<SecurityHubEntry> {
  public readonly name = 'securityhub';
  public readonly idempotent = true;
  private readonly pacer: CallPacer;

  public constructor(
    private readonly options: {
      /** The client for a region; Security Hub imports in the resource's own region. */
      client: (region: string) => SecurityHubClient;
      /** The account the clients' credentials belong to. */
      callerAccount: string;
      callsPerSecond?: number;
      baseDelayMs?: number;
    },
  ) {
    this.pacer = new CallPacer(
      1000 / (options.callsPerSecond ?? SECURITY_HUB_LIMITS.callsPerSecond),
    );
  }

  /** Calls can overlap: the pacer spaces their starts, so latency does not cost throughput. */
  public readonly concurrency = SECURITY_HUB_LIMITS.callsPerSecond;

  public plan(digest: AlertDigest): AlertBatch<SecurityHubEntry>[] {
    const own = digest.settings?.securityHub;
    const filter = filterOf(digest.settings, { changes: IMPORTED, ...own });
    const scan = {
      scanTime: digest.drift.to.scanTime,
      toolVersion: digest.toolVersion ?? 'unknown',
    };
    const changes = selectChanges(digest.drift, filter).map(({ kind, entry }) => ({ kind, entry }));
    // Unchanged open findings, re-imported before Security Hub's 90-day expiry.
    const due = new Set((digest.reimport ?? []).map((f) => f.fingerprint));
    for (const entry of digest.drift.changes['still-failing'])
      if (due.has(entry.fingerprint) && entry.current && passes(entry.current, filter))
        changes.push({ kind: 'still-failing', entry });
    // A SKIPPED finding is never sent: a FAIL whose rule stopped applying is archived as the
    // FAIL it was (like a gone resource), and nothing else about it goes to Security Hub.
    const sendable = changes.flatMap(({ kind, entry }) => {
      if (entry.current?.status !== 'SKIPPED') return [{ kind, entry }];
      if (!entry.previous || entry.previous.status === 'SKIPPED') return [];
      return [{ kind: 'gone' as const, entry: { ...entry, current: undefined } }];
    });
    const entries: AlertEntry<SecurityHubEntry>[] = sendable.map(({ kind, entry }) => {
      const f = entry.current ?? entry.previous!;
      return {
        id: `${kind}-${entry.fingerprint}`,
        payload: {
          region: f.resource.region,
          account: f.resource.account,
          asff: securityHubFinding(kind, entry, scan),
        },
      };
    });
    // A call goes to one region: group by region, keep the order inside each.
    const regions = [...new Set(entries.map((e) => e.payload.region))].sort();
    return regions.flatMap((region) =>
      pack(
        entries.filter((e) => e.payload.region === region),
        (e) => bytes(JSON.stringify(e.payload.asff)),
        {
          maxEntries: SECURITY_HUB_LIMITS.findingsPerCall,
          maxBytes: SECURITY_HUB_LIMITS.batchBytes - 64 * 1024,
        },
      ).map((batch, i) => ({ id: `${region}-${String(i).padStart(5, '0')}`, entries: batch })),
    );
  }

  public preview(entry: AlertEntry<SecurityHubEntry>): string {
    const a = entry.payload.asff;
    return `securityhub ${entry.payload.account}/${entry.payload.region}: ${a.Id} ${a.Compliance?.Status} ${a.RecordState}`;
  }

  public deliver(batch: AlertBatch<SecurityHubEntry>, signal?: AbortSignal): Promise<BatchOutcome> {
    const foreign = batch.entries.filter((e) => e.payload.account !== this.options.callerAccount);
    const tooBig = batch.entries.filter(
      (e) => bytes(JSON.stringify(e.payload.asff)) > SECURITY_HUB_LIMITS.findingBytes,
    );
    const refused = new Set([...foreign, ...tooBig].map((e) => e.id));
    const sendable = batch.entries.filter((e) => !refused.has(e.id));
    const region = batch.entries[0]?.payload.region ?? 'us-east-1';
    const byAsffId = new Map(sendable.map((e) => [e.payload.asff.Id ?? '', e.id]));
    return withEntryRetries(
      sendable,
      async (entries): Promise<CallAnswer> => {
        await this.pacer.turn(signal);
        const out = await this.options
          .client(region)
          .send(
            new BatchImportFindingsCommand({ Findings: entries.map((e) => e.payload.asff) }),
            signal ? { abortSignal: signal } : {},
          );
        const failed = (out.FailedFindings ?? []).map((f) => ({
          id: byAsffId.get(f.Id ?? '') ?? '',
          code: f.ErrorCode ?? 'Unknown',
          reason: `${f.ErrorCode}: ${f.ErrorMessage ?? ''}`,
          kind: RETRIABLE.test(f.ErrorCode ?? '') ? ('retry' as const) : ('permanent' as const),
        }));
        const failedIds = new Set(failed.map((f) => f.id));
        return { delivered: entries.map((e) => e.id).filter((id) => !failedIds.has(id)), failed };
      },
      {
        ...(signal ? { signal } : {}),
        ...(this.options.baseDelayMs !== undefined
          ? { baseDelayMs: this.options.baseDelayMs }
          : {}),
      },
    ).then((outcome) => ({
      delivered: outcome.delivered,
      failed: [
        ...outcome.failed,
        ...foreign.map((e) => ({
          id: e.id,
          code: 'OtherAccount',
          reason: `the finding belongs to account ${e.payload.account}; Security Hub takes findings only from their own account, and these credentials are ${this.options.callerAccount}'s`,
          kind: 'permanent' as const,
        })),
        ...tooBig
          .filter((e) => !foreign.includes(e))
          .map((e) => ({
            id: e.id,
            code: 'FindingTooLarge',
            reason: 'the finding is larger than Security Hub’s 240 KB',
            kind: 'permanent' as const,
          })),
      ],
    }));
  }
}
