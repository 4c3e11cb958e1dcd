import { type Finding, isBucketScoped } from '../engine/types.js';
import type { IndexEntry, ReportStore } from '../report-store/types.js';
import { previousScanOf } from './drift.js';
import { peekFinding } from './drift-stream.js';

/**
 * What a scan is compared with: the previous scan of its scope, overlaid with the rescans
 * made since (the account's posture as it was last seen). The rule, for each bucket: the
 * newest scan that looked at it wins; a rescan looked at exactly the buckets its scope names.
 * So a change a rescan already reported is not reported again by the next full scan, and a
 * bucket a rescan found deleted is not called gone twice.
 */
export interface PreviousView {
  /** The scans composed, oldest first: the base scan, then the rescans after it. */
  parts: IndexEntry[];
  /** The newest part: its alert state is the one that carried everything over. */
  newest: IndexEntry;
}

/** The previous view of `current` in the index; undefined for the first scan of its scope. */
export function previousViewOf(
  scans: readonly IndexEntry[],
  current: IndexEntry,
): PreviousView | undefined {
  const base = previousScanOf(scans, current);
  if (!base) return undefined;
  const overlays = scans
    .filter(
      (s) =>
        s.rescanOf !== undefined &&
        s.accountId === current.accountId &&
        s.scanId !== current.scanId &&
        s.scanId !== base.scanId &&
        s.scanTime > base.scanTime &&
        s.scanTime < current.scanTime,
    )
    .sort((a, b) => (a.scanTime < b.scanTime ? -1 : a.scanTime > b.scanTime ? 1 : 0));
  return { parts: [base, ...overlays], newest: overlays.at(-1) ?? base };
}

/**
 * The findings of a previous view as one stream of lines: each part's lines, oldest first,
 * without the buckets a later part looked at again. Read as often as drift needs.
 */
export function previousLines(
  store: ReportStore,
  view: PreviousView,
): () => AsyncIterable<string[]> {
  // For each part, the buckets of the parts after it, which it gives up. By name: bucket names
  // are unique across accounts, and a rescan of members names their buckets the same way. A
  // later part that could not reach the bucket's account did not look at it: it stays.
  const later = view.parts.map((_, i) => {
    const parts = view.parts.slice(i + 1);
    const names = new Set(parts.flatMap((part) => part.scope?.buckets ?? []));
    const standing = standingRescans(parts);
    const replaces = (name: string, account: string) =>
      names.has(name) && standing(name, account) !== undefined;
    return { any: names.size > 0, replaces };
  });
  return async function* lines() {
    for (const [i, part] of view.parts.entries()) {
      const replaced = later[i]!;
      for await (const batch of store.findingLines(part.scanId)) {
        if (!replaced.any) {
          yield batch;
          continue;
        }
        yield batch.filter((line) => {
          const { resource } = peekFinding(line);
          return (
            !isBucketScoped(resource as Finding['resource']) ||
            !replaced.replaces(resource.name, resource.account)
          );
        });
      }
    }
  };
}

/** A scan of every bucket: neither a rescan nor limited to buckets or regions. */
export const isFullScan = (s: IndexEntry): boolean =>
  !s.rescanOf && (s.scope?.buckets.length ?? 0) === 0 && (s.scope?.regions.length ?? 0) === 0;

/**
 * The rescans that bring a full scan up to date, oldest first: of its account, after it and
 * before the account's next full scan (which saw everything again). Empty for anything but a
 * full scan. The posture now is the full scan with, for each bucket a rescan named, the
 * newest such rescan's findings instead (see lib/dashboard/posture-view.ts).
 */
export function rescansOver(scans: readonly IndexEntry[], entry: IndexEntry): IndexEntry[] {
  if (!isFullScan(entry)) return [];
  const byTime = (a: IndexEntry, b: IndexEntry) =>
    a.scanTime < b.scanTime ? -1 : a.scanTime > b.scanTime ? 1 : 0;
  const account = scans.filter(
    (s) => s.accountId === entry.accountId && s.scanTime > entry.scanTime,
  );
  const next = account.filter(isFullScan).sort(byTime)[0];
  return account
    .filter((s) => s.rescanOf !== undefined && (!next || s.scanTime < next.scanTime))
    .sort(byTime);
}

/**
 * The rescan whose findings stand for a bucket: the newest of `rescans` that named it and
 * reached its account. An organisation rescan that could not assume a member's role looked at
 * none of that member's buckets: they keep the verdicts of the look before, never called
 * deleted. Undefined: the full scan's findings stand.
 */
export function standingRescans(
  rescans: readonly IndexEntry[],
): (name: string, account: string) => IndexEntry | undefined {
  const newestFirst = [...rescans].reverse().map((r) => ({
    rescan: r,
    names: new Set(r.scope?.buckets ?? []),
    unreachable: new Set(r.scope?.unreachableAccounts ?? []),
  }));
  return (name, account) =>
    newestFirst.find((r) => r.names.has(name) && !r.unreachable.has(account))?.rescan;
}

/**
 * The posture now, in memory: the full scan's findings with each bucket a rescan stands for
 * replaced by that rescan's findings of it (see {@link rescansOver}, {@link standingRescans}).
 * Account and listing findings stay the full scan's. The dashboard computes the same from the
 * findings index without holding the findings (lib/dashboard/posture-view.ts).
 */
export function composePosture(
  full: readonly Finding[],
  rescans: readonly { entry: IndexEntry; findings: readonly Finding[] }[],
): Finding[] {
  const standing = standingRescans(rescans.map((r) => r.entry));
  // A bucket's findings and its access points' (named after the bucket) go together.
  const bucket = (f: Finding) => isBucketScoped(f.resource);
  return [
    ...full.filter((f) => !bucket(f) || !standing(f.resource.name, f.resource.account)),
    ...rescans.flatMap(({ entry, findings }) =>
      findings.filter(
        (f) => bucket(f) && standing(f.resource.name, f.resource.account)?.scanId === entry.scanId,
      ),
    ),
  ];
}
