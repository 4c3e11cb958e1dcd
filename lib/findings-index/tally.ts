import type { Finding, Severity, Status } from '../engine/types.js';
import { SEVERITIES } from '../engine/types.js';
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
  bucket: f.resource.type === 'AWS::S3::Bucket',
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

  /** Buckets with failing or unverifiable findings, worst first, at most {@link TOP_BUCKETS}. */
  topBuckets(): BucketRank[] {
    const severityRank = (s: Severity | null) => (s === null ? 9 : VIEW_SEVERITIES.indexOf(s));
    return [...this.ranks.values()]
      .sort(
        (a, b) =>
          b.FAIL - a.FAIL ||
          severityRank(a.worst) - severityRank(b.worst) ||
          b.ERROR - a.ERROR ||
          compareText(a.name, b.name),
      )
      .slice(0, TOP_BUCKETS);
  }
}
