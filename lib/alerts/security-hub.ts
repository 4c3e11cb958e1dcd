import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { errorCode } from '../aws/errors.js';
import type { Finding } from '../engine/types.js';
import { toAsff } from '../export/asff.js';
import type { ChangeKind, DriftEntry } from '../history/drift.js';
import { bytes, type CallAnswer, CallPacer, pack, withEntryRetries } from './aws-batch.js';
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

/** A member role that may not import: its account is named, with what would let it. */
const DENIED = /AccessDenied|NotAuthorized|Forbidden/i;

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
      /**
       * A client in another account of an organisation-wide scan, through its member role
       * (deploy/member-role.yml with ImportToSecurityHub=true): Security Hub takes findings only
       * from their own account. Without it, other accounts' findings are reported, not sent.
       */
      memberClient?: (account: string, region: string) => Promise<SecurityHubClient>;
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
    // A call goes to one account's Security Hub in one region: group by both, keep the order
    // inside each. The scan's own account keeps the batch ids it always had.
    const groups = [...new Set(entries.map((e) => `${e.payload.account} ${e.payload.region}`))]
      .map((group) => group.split(' ') as [string, string])
      .sort(([a1, r1], [a2, r2]) => (r1 === r2 ? (a1 < a2 ? -1 : 1) : r1 < r2 ? -1 : 1));
    const ownAccount = digest.account;
    // Another account's batch is named by its route: through the member role, or not at all
    // (reported). A later run given the member role then sends what an earlier one could not.
    const route = (account: string) =>
      account === ownAccount ? '' : `${this.options.memberClient ? '' : 'unsent-'}${account}-`;
    return groups.flatMap(([account, region]) =>
      pack(
        entries.filter((e) => e.payload.region === region && e.payload.account === account),
        (e) => bytes(JSON.stringify(e.payload.asff)),
        {
          maxEntries: SECURITY_HUB_LIMITS.findingsPerCall,
          maxBytes: SECURITY_HUB_LIMITS.batchBytes - 64 * 1024,
        },
      ).map((batch, i) => ({
        id: `${route(account)}${region}-${String(i).padStart(5, '0')}`,
        entries: batch,
      })),
    );
  }

  public preview(entry: AlertEntry<SecurityHubEntry>): string {
    const a = entry.payload.asff;
    return `securityhub ${entry.payload.account}/${entry.payload.region}: ${a.Id} ${a.Compliance?.Status} ${a.RecordState}`;
  }

  public async deliver(
    batch: AlertBatch<SecurityHubEntry>,
    signal?: AbortSignal,
  ): Promise<BatchOutcome> {
    const account = batch.entries[0]?.payload.account ?? this.options.callerAccount;
    const region = batch.entries[0]?.payload.region ?? 'us-east-1';
    if (account === this.options.callerAccount || !this.options.memberClient)
      return this.send(batch, this.options.client(region), signal);
    let client: SecurityHubClient;
    try {
      client = await this.options.memberClient(account, region);
    } catch (error) {
      if (signal?.aborted) throw error;
      return {
        delivered: [],
        failed: batch.entries.map((e) => ({
          id: e.id,
          code: 'MemberRoleUnavailable',
          reason: `account ${account}: the member role could not be assumed to import its findings (${errorCode(error)}: ${(error as Error).message})`,
          kind: DENIED.test(errorCode(error)) ? ('permanent' as const) : ('retry' as const),
        })),
      };
    }
    const outcome = await this.send(batch, client, signal, account);
    return {
      delivered: outcome.delivered,
      failed: outcome.failed.map((f) =>
        DENIED.test(f.code)
          ? {
              ...f,
              kind: 'permanent' as const,
              reason: `account ${account}: its member role may not import findings (securityhub:BatchImportFindings); redeploy deploy/member-role.yml there with ImportToSecurityHub=true (${f.reason})`,
            }
          : f,
      ),
    };
  }

  /** One batch to one account's Security Hub through `client`. */
  private send(
    batch: AlertBatch<SecurityHubEntry>,
    client: SecurityHubClient,
    signal: AbortSignal | undefined,
    asAccount = this.options.callerAccount,
  ): Promise<BatchOutcome> {
    const foreign = batch.entries.filter((e) => e.payload.account !== asAccount);
    const tooBig = batch.entries.filter(
      (e) => bytes(JSON.stringify(e.payload.asff)) > SECURITY_HUB_LIMITS.findingBytes,
    );
    const refused = new Set([...foreign, ...tooBig].map((e) => e.id));
    const sendable = batch.entries.filter((e) => !refused.has(e.id));
    const byAsffId = new Map(sendable.map((e) => [e.payload.asff.Id ?? '', e.id]));
    return withEntryRetries(
      sendable,
      async (entries): Promise<CallAnswer> => {
        await this.pacer.turn(signal);
        const out = await client.send(
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
        signal,
        baseDelayMs: this.options.baseDelayMs,
      },
    ).then((outcome) => ({
      delivered: outcome.delivered,
      failed: [
        ...outcome.failed,
        ...foreign.map((e) => ({
          id: e.id,
          code: 'OtherAccount',
          reason: `the finding belongs to account ${e.payload.account}; Security Hub takes findings only from their own account, and these credentials are ${asAccount}'s (an organisation-wide scan sends them through each member's role)`,
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
