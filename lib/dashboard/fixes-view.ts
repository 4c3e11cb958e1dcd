import { DashboardRequestError } from '../errors.js';
import type { FixOutcome } from '../remediation/apply.js';
import { settingDiff } from '../remediation/diff.js';
import type { JobResult } from '../remediation/jobs.js';
import type { FixPlan } from '../remediation/plan.js';
import { fixRecordId } from '../remediation/records.js';
import type { ReportStore } from '../report-store/types.js';
import type { FixHistoryAnswer, FixHistoryEntry, FixRun } from './answers.js';

/**
 * A bucket's fixes for the dashboard (issue 26, item 7): each planned fix of the bucket, what it
 * changes, and every run since (who, when, the setting before and after, proven or not), read
 * from the fix records (`fixes/<fixId>/`). Read-only: the page shows the commands, never runs them.
 */

/** At most this many fixes are read per request, newest first. */
const MAX_FIXES = 200;

const BUCKET_NAME =
  /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$|^[a-z0-9][a-z0-9.-]{1,61}--[a-z0-9-]+--x-s3$/;

function stateOf(runs: readonly FixRun[]): FixHistoryEntry['state'] {
  const last = runs.at(-1);
  if (!last) return 'planned';
  if (last.mode === 'interrupted') return 'interrupted';
  if (last.mode === 'dry-run') return 'dry run';
  if (last.mode === 'refused' || last.status === 'refused') return 'refused';
  if (last.status === 'failed') return 'failed';
  if (last.mode === 'undo') return last.status === 'refused' ? 'refused' : 'undone';
  return last.verdict?.status === 'PASS' ? 'proven' : 'not proven';
}

/** The fixes of a bucket (of an account, when named), from the store's fix records. */
export async function getBucketFixes(
  store: ReportStore,
  query: { bucket?: string; account?: string },
): Promise<FixHistoryAnswer> {
  const bucket = query.bucket ?? '';
  if (!BUCKET_NAME.test(bucket))
    throw new DashboardRequestError(400, 'bucket must name an S3 bucket (?bucket=NAME)');
  if (query.account !== undefined && !/^\d{12}$/.test(query.account))
    throw new DashboardRequestError(400, 'account must be a 12-digit account id');
  const records = store.fixRecords();
  const ids = (await records.ids()).reverse().slice(0, MAX_FIXES);
  const answer: FixHistoryAnswer = { bucket, fixes: [], jobs: [], unreadable: [] };
  const ours = (r: { bucket: string; account: string }) =>
    r.bucket === bucket && (query.account === undefined || r.account === query.account);
  for (const id of ids) {
    let plan: FixPlan | undefined;
    let names: string[];
    try {
      plan = (await records.read(id, 'plan')) as FixPlan | undefined;
      names = await records.list(id);
    } catch {
      answer.unreadable.push(id);
      continue;
    }
    if (!plan) continue;
    const fixes = plan.fixes.filter(ours);
    const jobs = (plan.objectJobs ?? []).filter(ours);
    if (fixes.length === 0 && jobs.length === 0) continue;
    const runs = (
      await Promise.all(
        names
          .filter((n) => n.startsWith('runs/'))
          .sort()
          .map((n) => records.read(id, n).catch(() => undefined)),
      )
    ).filter((r) => r !== undefined) as Record<string, unknown>[];
    for (const fix of fixes) {
      const fixRuns: FixRun[] = [];
      for (const run of runs) {
        if ('mode' in run && 'results' in run) {
          const outcome = run as unknown as FixOutcome;
          for (const r of outcome.results.filter((x) => ours(x) && x.rule === fix.rule))
            fixRuns.push({
              mode: outcome.mode,
              at: outcome.startedAt,
              by: outcome.by,
              status: r.status,
              ...(r.reason ? { reason: r.reason } : {}),
              ...(r.verified !== undefined ? { verified: r.verified } : {}),
              ...(r.verdict ? { verdict: r.verdict } : {}),
              ...(outcome.rescanId ? { rescanId: outcome.rescanId } : {}),
              ...(r.previous !== undefined ? { before: r.previous } : {}),
              ...(r.readBack !== undefined ? { after: r.readBack } : {}),
            });
        } else if ('dryRun' in run || 'refused' in run) {
          const at = String(run.at ?? '');
          fixRuns.push(
            run.refused
              ? { mode: 'refused', at, status: 'refused', reason: String(run.refused) }
              : { mode: 'dry-run', at, status: 'dry run' },
          );
        }
      }
      // Saved before a write whose result was never recorded: a run stopped mid-apply.
      const saved = `apply/${fixRecordId(fix)}.previous`;
      const recorded = fixRuns.some((r) => r.mode === 'apply');
      if (names.includes(saved) && !recorded)
        fixRuns.push({
          mode: 'interrupted',
          at: plan.createdAt,
          status: 'interrupted',
          reason: 'the run stopped after saving the setting: whether its write landed is unknown',
        });
      const state = stateOf(fixRuns);
      answer.fixes.push({
        fixId: id,
        createdAt: plan.createdAt,
        scanId: plan.scanId,
        automatic: plan.automatic === true,
        rule: fix.rule,
        setting: fix.setting,
        change: fix.change,
        diff: settingDiff(fix),
        runs: fixRuns,
        state,
        next:
          state === 'proven' || state === 'not proven' || state === 'interrupted'
            ? `s3scan fix --undo ${id}`
            : `s3scan fix --apply --bucket ${fix.bucket} --rule ${fix.rule}`,
      });
    }
    const created = new Map<string, JobResult>();
    for (const run of runs)
      for (const r of ((run as { results?: JobResult[] }).results ?? []).filter(
        (x) => 'operation' in x,
      ))
        created.set(r.id, r);
    for (const job of jobs) {
      const result = created.get(job.id);
      answer.jobs.push({
        fixId: id,
        operation: job.operation,
        objects: job.objects,
        status: result?.status ?? 'planned',
        ...(result?.jobId ? { jobId: result.jobId } : {}),
        ...(result?.reason ? { reason: result.reason } : {}),
      });
    }
  }
  return answer;
}
