import {
  type Finding,
  isBucketScoped,
  SEVERITIES,
  type Severity,
  type Status,
} from '../engine/types.js';
import { type BucketRank, TOP_BUCKETS, VIEW_SEVERITIES } from './format.js';

/** What the overview counts of one finding. */
export interface TalliedFinding {
  status: Status;
  severity: Severity;
  /** An active suppression. */
  suppressed: boolean;
  ruleId: string;
  account: string;
  region: string;
  name: string;
  /** A bucket's finding (not an account's or a listing's): only those rank in "fix first". */
  bucket: boolean;
}

/** A finding as the tally reads it. */
export const talliedOf = (f: Finding): TalliedFinding => ({
  status: f.status,
  severity: f.severity,
  suppressed: f.suppression?.active === true,
  ruleId: f.ruleId,
  account: f.resource.account,
  region: f.resource.region,
  name: f.resource.name,
  // An access point's findings count with its bucket's (they carry the bucket's name).
  bucket: isBucketScoped(f.resource),
});

const emptyCounts = (): Record<Status, number> => ({ PASS: 0, FAIL: 0, ERROR: 0, SKIPPED: 0 });
function count(into: Record<string, Record<Status, number>>, key: string, status: Status): void {
  into[key] ??= emptyCounts();
  into[key][status] += 1;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The overview's counts over a set of findings, one at a time: the summary's definitions
 * (every finding by status and rule; unsuppressed FAILs by severity) and the index's (status
 * counts per account and region; buckets ranked by unsuppressed FAIL, worst severity, ERROR).
 * One definition for the stored overview and the posture-now overview computed from it.
 */
export class OverviewTally {
  findings = 0;
  suppressed = 0;
  readonly byStatus = emptyCounts();
  readonly failedBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<
    Severity,
    number
  >;
  readonly byRule: Record<string, Record<Status, number>> = {};
  readonly byAccount: Record<string, Record<Status, number>> = {};
  readonly byRegion: Record<string, Record<Status, number>> = {};
  private readonly ranks = new Map<string, BucketRank>();

  add(f: TalliedFinding): void {
    this.findings += 1;
    this.byStatus[f.status] += 1;
    count(this.byRule, f.ruleId, f.status);
    count(this.byAccount, f.account, f.status);
    count(this.byRegion, f.region, f.status);
    if (f.suppressed) this.suppressed += 1;
    else if (f.status === 'FAIL') this.failedBySeverity[f.severity] += 1;
    if ((f.status !== 'FAIL' && f.status !== 'ERROR') || f.suppressed || !f.bucket) return;
    const key = `${f.account}\n${f.region}\n${f.name}`;
    let rank = this.ranks.get(key);
    if (!rank) {
      rank = { account: f.account, region: f.region, name: f.name, FAIL: 0, ERROR: 0, worst: null };
      this.ranks.set(key, rank);
    }
    rank[f.status] += 1;
    if (
      f.status === 'FAIL' &&
      (rank.worst === null ||
        VIEW_SEVERITIES.indexOf(f.severity) < VIEW_SEVERITIES.indexOf(rank.worst))
    )
      rank.worst = f.severity;
  }

  /**
   * Counts made elsewhere (a pass over the index's columns), added in: `statuses` per key of
   * each dimension, and a bucket's rank as {@link add} would have built it from its findings.
   */
  addCounted(counted: {
    findings: number;
    suppressed: number;
    byStatus: Record<Status, number>;
    failedBySeverity: Record<Severity, number>;
    byRule: Record<string, Record<Status, number>>;
    byAccount: Record<string, Record<Status, number>>;
    byRegion: Record<string, Record<Status, number>>;
    ranks: BucketRank[];
  }): void {
    this.findings += counted.findings;
    this.suppressed += counted.suppressed;
    for (const status of Object.keys(counted.byStatus) as Status[])
      this.byStatus[status] += counted.byStatus[status];
    for (const s of SEVERITIES) this.failedBySeverity[s] += counted.failedBySeverity[s];
    const merge = (
      into: Record<string, Record<Status, number>>,
      from: Record<string, Record<Status, number>>,
    ) => {
      for (const [key, counts] of Object.entries(from)) {
        into[key] ??= emptyCounts();
        for (const status of Object.keys(counts) as Status[]) into[key][status] += counts[status];
      }
    };
    merge(this.byRule, counted.byRule);
    merge(this.byAccount, counted.byAccount);
    merge(this.byRegion, counted.byRegion);
    for (const rank of counted.ranks) {
      const key = `${rank.account}\n${rank.region}\n${rank.name}`;
      const known = this.ranks.get(key);
      if (!known) this.ranks.set(key, { ...rank });
      else {
        known.FAIL += rank.FAIL;
        known.ERROR += rank.ERROR;
        if (
          rank.worst !== null &&
          (known.worst === null ||
            VIEW_SEVERITIES.indexOf(rank.worst) < VIEW_SEVERITIES.indexOf(known.worst))
        )
          known.worst = rank.worst;
      }
    }
  }

  /** Buckets with failing or unverifiable findings, worst first, at most {@link TOP_BUCKETS}. */
  topBuckets(): BucketRank[] {
    return topRanks(this.ranks.values());
  }
}

const severityRank = (s: Severity | null) => (s === null ? 9 : VIEW_SEVERITIES.indexOf(s));

/** "Fix first" order: most unsuppressed FAILs, then the worst of them, then most ERRORs. */
export function compareRanks(a: BucketRank, b: BucketRank): number {
  return (
    b.FAIL - a.FAIL ||
    severityRank(a.worst) - severityRank(b.worst) ||
    b.ERROR - a.ERROR ||
    compareText(a.name, b.name)
  );
}

/**
 * The first {@link TOP_BUCKETS} ranks in that order, ties kept in arrival order: one pass that
 * keeps a short sorted list, so 50,000 buckets are not all sorted to show twenty.
 */
export function topRanks(ranks: Iterable<BucketRank>): BucketRank[] {
  const top: BucketRank[] = [];
  for (const rank of ranks) {
    const last = top[top.length - 1];
    if (top.length === TOP_BUCKETS && last && compareRanks(rank, last) >= 0) continue;
    let at = top.length;
    while (at > 0 && compareRanks(rank, top[at - 1] as BucketRank) < 0) at--;
    top.splice(at, 0, rank);
    if (top.length > TOP_BUCKETS) top.pop();
  }
  return top;
}
