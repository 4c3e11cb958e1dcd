import { type Finding, SEVERITIES } from '../engine/types.js';
import type { IndexEntry, StoredScope } from '../report-store/index-types.js';
import { globMatch } from '../text/glob.js';

/** What changed for one finding since the previous scan of the same scope. */
export const CHANGE_KINDS = [
  'new',
  'regressed',
  'resolved',
  'unverifiable',
  'gone',
  'still-failing',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * Every finding of either scan lands in exactly one kind: a change kind, `unchanged` (nothing
 * to say: PASS stayed PASS, SKIPPED stayed SKIPPED, ERROR stayed ERROR), or `suppressed` (an
 * active suppression: never alerted).
 */
export type DriftKind = ChangeKind | 'unchanged' | 'suppressed';

/** One finding's change, with both sides when both scans have it. */
export interface DriftEntry {
  kind: DriftKind;
  fingerprint: string;
  /** The finding now; absent for `gone`. */
  current?: Finding;
  /** The finding in the previous scan; absent for a first sight. */
  previous?: Finding;
  /** When a FAIL was first seen, kept across scans; absent when it does not fail now. */
  firstSeen?: string;
  /** When the previous scan's FAIL was first seen: resolved, gone and unverifiable keep it. */
  failingSince?: string;
  /** The last scan that saw the resource's finding. */
  lastSeen: string;
}

/**
 * Which buckets a scan looked at: its account (or, organisation-wide, its accounts), bucket
 * globs and regions (empty: all), and the accounts it could not read.
 */
export interface ScanScope {
  accountId: string;
  buckets: string[];
  regions: string[];
  /** An organisation-wide scan's accounts; absent: `accountId` alone. */
  accounts?: string[];
  /** Accounts the scan could not read: their earlier findings are unverifiable, not gone. */
  unreachableAccounts?: string[];
}

/** A stored scan, as drift reads it. */
export interface ScanSide {
  scanId: string;
  scanTime: string;
  findings: Finding[];
  /** When set, findings carry `firstSeen` from earlier drift (see {@link firstSeenOf}). */
  firstSeen?: ReadonlyMap<string, string>;
}

/** The drift between two scans: each change kind's entries, and counts of every kind. */
export interface Drift {
  from: { scanId: string; scanTime: string };
  to: { scanId: string; scanTime: string };
  scope: ScanScope;
  changes: Record<ChangeKind, DriftEntry[]>;
  counts: Record<DriftKind, number>;
}

/** The scope a stored scan recorded (its summary's account and `scope`; absent: everything). */
export function scopeOf(summary: { accountId: string; scope?: StoredScope }): ScanScope {
  return {
    accountId: summary.accountId,
    buckets: summary.scope?.buckets ?? [],
    regions: summary.scope?.regions ?? [],
    ...(summary.scope?.accounts ? { accounts: summary.scope.accounts } : {}),
    ...(summary.scope?.unreachableAccounts?.length
      ? { unreachableAccounts: summary.scope.unreachableAccounts }
      : {}),
  };
}

/** True when the scope covers the account: one of its accounts, or its own. */
export function coversAccount(scope: ScanScope, account: string): boolean {
  return scope.accounts ? scope.accounts.includes(account) : account === scope.accountId;
}

/**
 * The kind of a finding the previous scan saw in an account the current one could not read:
 * a PASS or FAIL can no longer be vouched for (`unverifiable`); the rest is `unchanged`.
 */
export function unreadKind(previous: FindingView): DriftKind {
  return kindOf(previous, { status: 'ERROR', severity: previous.severity, suppressed: false });
}

/** True when the current scan looked at this resource: its account, a bucket glob and region. */
export function inScope(scope: ScanScope, resource: Finding['resource']): boolean {
  if (!coversAccount(scope, resource.account)) return false;
  // An account's own findings are about the account, whatever the bucket filters; a
  // directory bucket listing (an s3express ARN) is about its region.
  if (resource.type === 'AWS::::Account')
    return (
      scope.regions.length === 0 ||
      !resource.arn.includes(':s3express:') ||
      scope.regions.includes(resource.region)
    );
  if (scope.regions.length > 0 && !scope.regions.includes(resource.region)) return false;
  return (
    scope.buckets.length === 0 ||
    scope.buckets.some((glob) => globMatch(glob, resource.name, false))
  );
}

/** What a change's kind depends on: a finding's status, severity and active suppression. */
export interface FindingView {
  status: Finding['status'];
  severity: Finding['severity'];
  suppressed: boolean;
}

export const viewOf = (finding: Finding): FindingView => ({
  status: finding.status,
  severity: finding.severity,
  suppressed: finding.suppression?.active === true,
});

const rank = (view: FindingView) => SEVERITIES.indexOf(view.severity);
const failing = (finding: Finding | undefined) => finding?.status === 'FAIL';

/** The kind of one fingerprint's change, from its previous and current finding. */
export function kindOf(previous: FindingView | undefined, current: FindingView): DriftKind {
  if (current.suppressed) return 'suppressed';
  const before = previous && !previous.suppressed ? previous.status : undefined;
  switch (current.status) {
    case 'FAIL':
      if (before === 'PASS') return 'regressed';
      if (before !== 'FAIL') return 'new';
      // A lower rank is more severe: critical is 0.
      return previous && rank(current) < rank(previous) ? 'regressed' : 'still-failing';
    case 'ERROR':
      return before === 'PASS' || before === 'FAIL' ? 'unverifiable' : 'unchanged';
    case 'PASS':
    case 'SKIPPED':
      // No longer failing: fixed (PASS), or the rule no longer applies (SKIPPED).
      return before === 'FAIL' ? 'resolved' : 'unchanged';
  }
}

/** Which index entry is "the previous complete scan of the same scope" for `current`. */
export function previousScanOf(
  scans: readonly IndexEntry[],
  current: IndexEntry,
): IndexEntry | undefined {
  const key = (s: IndexEntry['scope']) =>
    JSON.stringify([[...(s?.buckets ?? [])].sort(), [...(s?.regions ?? [])].sort()]);
  const older = scans.filter(
    (s) =>
      s.accountId === current.accountId &&
      s.scanTime < current.scanTime &&
      s.scanId !== current.scanId,
  );
  // The newest scan that looked at everything this one did: the same scope, or all buckets.
  const full = (s: IndexEntry) =>
    (s.scope?.buckets.length ?? 0) === 0 && (s.scope?.regions.length ?? 0) === 0;
  return older.find((s) => key(s.scope) === key(current.scope) || full(s));
}

/** Empty change lists and zero counts. */
export function emptyDrift(): Pick<Drift, 'changes' | 'counts'> {
  return {
    changes: Object.fromEntries(CHANGE_KINDS.map((k) => [k, []])) as unknown as Record<
      ChangeKind,
      DriftEntry[]
    >,
    counts: Object.fromEntries(
      [...CHANGE_KINDS, 'unchanged', 'suppressed'].map((k) => [k, 0]),
    ) as Record<DriftKind, number>,
  };
}

/**
 * Compares a scan with the previous complete scan of the same scope, by fingerprint. Only
 * findings inside `scope` count: a scan of a subset (`--bucket`, `--region`) never calls a
 * bucket `gone` because it did not look at it. Pure: same inputs, same drift.
 */
export function diffScans(previous: ScanSide, current: ScanSide, scope: ScanScope): Drift {
  const before = new Map<string, Finding>();
  for (const finding of previous.findings)
    if (inScope(scope, finding.resource)) before.set(finding.fingerprint, finding);
  const { changes, counts } = emptyDrift();
  const add = (entry: DriftEntry) => {
    counts[entry.kind] += 1;
    if (entry.kind !== 'unchanged' && entry.kind !== 'suppressed') changes[entry.kind].push(entry);
  };
  const seen = new Set<string>();
  for (const finding of current.findings) {
    if (!inScope(scope, finding.resource)) continue;
    seen.add(finding.fingerprint);
    const prior = before.get(finding.fingerprint);
    const kind = kindOf(prior && viewOf(prior), viewOf(finding));
    const since = failing(prior)
      ? (previous.firstSeen?.get(finding.fingerprint) ?? previous.scanTime)
      : undefined;
    const firstSeen = failing(finding) ? (since ?? current.scanTime) : undefined;
    add({
      kind,
      fingerprint: finding.fingerprint,
      current: finding,
      ...(prior ? { previous: prior } : {}),
      ...(firstSeen ? { firstSeen } : {}),
      ...(since && !firstSeen ? { failingSince: since } : {}),
      lastSeen: current.scanTime,
    });
  }
  // What the previous scan saw in scope and this one did not: the resource is gone, unless
  // its account could not be read this time.
  const unread = new Set(scope.unreachableAccounts ?? []);
  for (const [fingerprint, prior] of before) {
    if (seen.has(fingerprint)) continue;
    const since = failing(prior)
      ? (previous.firstSeen?.get(fingerprint) ?? previous.scanTime)
      : undefined;
    add({
      kind: unread.has(prior.resource.account) ? unreadKind(viewOf(prior)) : 'gone',
      fingerprint,
      previous: prior,
      ...(since ? { failingSince: since } : {}),
      lastSeen: previous.scanTime,
    });
  }
  return driftOf(previous, current, scope, changes, counts);
}

/** The drift between two scans of a scope, from its changes and their counts. */
export function driftOf(
  previous: Pick<ScanSide, 'scanId' | 'scanTime'>,
  current: Pick<ScanSide, 'scanId' | 'scanTime'>,
  scope: ScanScope,
  changes: Drift['changes'],
  counts: Drift['counts'],
): Drift {
  return {
    from: { scanId: previous.scanId, scanTime: previous.scanTime },
    to: { scanId: current.scanId, scanTime: current.scanTime },
    scope,
    changes,
    counts,
  };
}

/** One line for people: "3 new, 1 regressed, 2 resolved since 2026-10-31". */
export function describeDrift(drift: Drift): string {
  const parts = CHANGE_KINDS.filter((k) => k !== 'still-failing' && drift.counts[k] > 0).map(
    (k) => `${drift.counts[k]} ${k}`,
  );
  const since = drift.from.scanTime.slice(0, 10);
  return parts.length > 0
    ? `${parts.join(', ')} since ${since} (${drift.counts['still-failing']} still failing)`
    : `no change since ${since} (${drift.counts['still-failing']} still failing)`;
}

/**
 * The first-seen time of every failing finding of a drift, for the next scan's comparison. A
 * FAIL that could not be verified this time (ERROR, or its account unreachable) keeps its
 * time: when it is seen failing again, it has been failing since then, not since the gap.
 */
export function firstSeenOf(drift: Drift): Map<string, string> {
  const map = new Map<string, string>();
  for (const kind of CHANGE_KINDS)
    for (const entry of drift.changes[kind])
      if (entry.firstSeen) map.set(entry.fingerprint, entry.firstSeen);
      else if (kind === 'unverifiable' && entry.failingSince)
        map.set(entry.fingerprint, entry.failingSince);
  return map;
}
