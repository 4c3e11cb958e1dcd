import { awsBatch } from '../../aws/batch-jobs.js';
import { awsSettings } from '../../aws/bucket-settings.js';
import type { LoadedConfig } from '../../config/config.js';
import { ConfigError } from '../../errors.js';
import { sanitiseLine } from '../../export/table.js';
import {
  actionsToApply,
  actionsToUndo,
  applyPlan,
  bucketsToRescan,
  type FixOutcome,
  type FixPorts,
  proveFixes,
  savedSettings,
  undoFix,
} from '../../remediation/apply.js';
import { provingRescan } from '../../remediation/auto.js';
import {
  createJobs,
  JOB_IAM_ACTIONS,
  type JobResult,
  jobBase,
  jobStatus,
} from '../../remediation/jobs.js';
import type { FixPlan } from '../../remediation/plan.js';
import type { ReportStore } from '../../report-store/types.js';
import { type AwsSession, withAwsSession } from '../aws-session.js';
import type { CliIo } from '../io.js';
import { EXIT } from '../output.js';
import type { CliStore } from '../store.js';
import { runAlerts } from './alert.js';

/** What `fix --apply` and `fix --undo` are given besides the plan or the fix id. */
export interface FixRunOptions {
  yes?: boolean;
  jobBucket?: string;
  batchRole?: string;
  copy?: boolean;
  alert?: boolean;
  config?: string;
  profile?: string;
  endpointUrl?: string;
  pathStyle?: boolean;
  format: 'table' | 'json';
  /** The store's location as the user gave it, for the undo command printed. */
  store: string;
}

/** The store a run reads and writes, and where it stages a rescan's files. */
export type FixStore = Pick<CliStore, 'store' | 'staging'>;

/**
 * Refuses a run that would change AWS settings without a person's yes: `--yes`, or "yes"
 * typed at the terminal. Without a terminal and without `--yes`, nothing is asked or written.
 */
export function assertCanConfirm(io: CliIo, options: { yes?: boolean }, what: string): void {
  if (!options.yes && !io.stdinIsTty)
    throw new ConfigError(
      `${what} changes settings in AWS and asks first; there is no terminal to ask at: pass --yes to ${what.replace(/^--/, '')} without asking`,
    );
}

async function confirmed(io: CliIo, options: { yes?: boolean }, question: string) {
  if (options.yes) return true;
  const answer = (await io.ask(`${question} Type "yes" to go on: `)).trim().toLowerCase();
  return answer === 'yes' || answer === 'y';
}

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/**
 * `s3scan fix --apply`: the plan's fixes applied with the caller's credentials after a yes,
 * the buckets rescanned, each targeted finding's new verdict shown and recorded
 * (`runs/<time>-apply.json`), and with `--alert` the rescan's resolutions sent.
 */
export async function applyAndProve(
  io: CliIo,
  { store, staging }: FixStore,
  plan: FixPlan,
  config: LoadedConfig,
  options: FixRunOptions,
): Promise<number> {
  const jobs = (plan.objectJobs ?? []).filter((j) => options.copy || !j.needsConsent);
  if (plan.fixes.length === 0 && jobs.length === 0) {
    io.stderr('Nothing to apply: the plan holds no fix and no object job.\n');
    return plan.refused.length > 0 || (plan.objectsLeft ?? []).length > 0 ? EXIT.failOn : EXIT.ok;
  }
  assertCanConfirm(io, options, '--apply');
  const buckets = new Set(plan.fixes.map((f) => `${f.account}/${f.bucket}`)).size;
  return withAwsSession(options, config, async (session) => {
    const actions = [
      ...new Set([...actionsToApply(plan.fixes), ...(jobs.length > 0 ? JOB_IAM_ACTIONS : [])]),
    ].sort();
    io.stderr(
      `Applying needs ${actions.join(', ')}${plan.fixes.length > 0 ? ", and the scanner's read permissions for the rescan" : ''}.\n`,
    );
    const objects = jobs.reduce((n, j) => n + j.objects, 0);
    const parts = [
      ...(plan.fixes.length > 0
        ? [`apply ${plural(plan.fixes.length, 'fix', 'fixes')} to ${plural(buckets, 'bucket')}`]
        : []),
      ...(jobs.length > 0
        ? [
            `create ${plural(jobs.length, 'Batch Operations job')} over ${plural(objects, 'object')} (each waits for confirmation)`,
          ]
        : []),
    ];
    const question = `${parts.join(' and ').replace(/^./, (c) => c.toUpperCase())} in account ${session.own.accountId} as ${session.own.arn}?`;
    if (!(await confirmed(io, options, question))) {
      io.stderr(
        `Nothing was applied. The plan stays in ${store.fixRecords().describe(plan.fixId)}.\n`,
      );
      return EXIT.ok;
    }
    let code: number = EXIT.ok;
    if (plan.fixes.length > 0) {
      const outcome = await applyPlan(plan, portsOf(session, store));
      code = await rescanAndReport(io, { store, staging }, session, outcome, config, options);
    }
    if ((plan.objectJobs ?? []).length > 0) {
      const jobCode = await createAndReportJobs(io, store, session, plan, options);
      code = Math.max(code, jobCode);
    }
    return code;
  });
}

/** Creates the plan's Batch Operations jobs, once each, and says how to confirm and follow them. */
async function createAndReportJobs(
  io: CliIo,
  store: ReportStore,
  session: AwsSession,
  plan: FixPlan,
  options: FixRunOptions,
): Promise<number> {
  const records = store.fixRecords();
  const missing = [
    ...(options.jobBucket ? [] : ['--job-bucket (where manifests and completion reports go)']),
    ...(options.batchRole ? [] : ['--batch-role (the role Batch Operations runs as)']),
  ];
  const results: JobResult[] =
    missing.length > 0
      ? (plan.objectJobs ?? []).map((job) => ({
          ...jobBase(job),
          status: 'refused',
          reason: `creating a job needs ${missing.join(' and ')}`,
        }))
      : await createJobs(
          plan,
          {
            jobBucket: options.jobBucket ?? '',
            batchRoleArn: options.batchRole ?? '',
            partition: session.own.partition,
            copies: options.copy === true,
          },
          {
            batch: awsBatch(session.clients),
            records,
            by: session.own.arn,
            account: session.own.accountId,
          },
        );
  const at = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d+)Z$/, '$1Z');
  await records.write(plan.fixId, `runs/${at}-jobs`, { at, by: session.own.arn, results });
  if (options.format === 'json') io.stdout(`${JSON.stringify({ jobs: results }, null, 2)}\n`);
  else io.stdout(renderJobs(plan.fixId, results, options.store));
  if (results.some((r) => r.status === 'failed')) return EXIT.runtime;
  return results.every((r) => r.status === 'created' || r.status === 'already')
    ? EXIT.ok
    : EXIT.failOn;
}

/** The jobs of a fix, and how to confirm and follow them. */
export function renderJobs(fixId: string, results: readonly JobResult[], store: string): string {
  const lines = [`Batch Operations jobs of fix ${fixId}:`];
  for (const r of results) {
    const what = `${r.bucket}  ${r.operation} of ${plural(r.objects, 'object')}`;
    const state = r.state
      ? ` ${r.state.status}${r.state.total !== undefined ? `: ${r.state.succeeded ?? 0} of ${r.state.total} succeeded, ${r.state.failed ?? 0} failed` : ''}${r.state.failureReasons.length ? ` (${r.state.failureReasons.join('; ')})` : ''}${r.state.report ? `; completion report in ${r.state.report}` : ''}`
      : '';
    lines.push(
      `  ${what}  ${r.status}${r.jobId ? `: job ${r.jobId}` : ''}${r.reason ? ` (${r.reason})` : ''}${state}`,
    );
  }
  const waiting = results.filter((r) => r.jobId && (!r.state || r.state.status === 'Suspended'));
  for (const r of waiting)
    lines.push(
      `Confirm job ${r.jobId}: aws s3control update-job-status --region ${r.region} --account-id ${r.account} --job-id ${r.jobId} --requested-job-status Ready`,
    );
  if (results.some((r) => r.jobId))
    lines.push(
      `Follow them: s3scan fix --status ${fixId} --store ${store}; the next scan of each bucket verifies its objects.`,
    );
  return `${lines.map(sanitiseLine).join('\n')}\n`;
}

/** The records of a stored fix; an input error naming the store when it holds no such fix. */
async function storedFix(store: ReportStore, fixId: string) {
  const records = store.fixRecords();
  if ((await records.read(fixId, 'plan')) === undefined)
    throw new ConfigError(`no fix ${fixId} in ${store.describe()}: s3scan fix prints the fix id`);
  return records;
}

/** `s3scan fix --status ID`: each created job of the fix as S3 Batch Operations reports it now. */
export async function showJobStatus(
  io: CliIo,
  store: ReportStore,
  fixId: string,
  config: LoadedConfig,
  options: FixRunOptions,
): Promise<number> {
  const records = await storedFix(store, fixId);
  const created = (await records.list(fixId)).filter((n) => /^jobs\/.+\.created$/.test(n));
  if (created.length === 0) {
    io.stderr(`Fix ${fixId} created no Batch Operations job.\n`);
    return EXIT.ok;
  }
  return withAwsSession(options, config, async (session) => {
    const results = await jobStatus(fixId, { batch: awsBatch(session.clients), records });
    if (options.format === 'json') io.stdout(`${JSON.stringify(results, null, 2)}\n`);
    else io.stdout(renderJobs(fixId, results, options.store));
    if (results.some((r) => r.status === 'failed')) return EXIT.runtime;
    const done = results.every(
      (r) => r.state?.status === 'Complete' && (r.state.failed ?? 0) === 0,
    );
    return done ? EXIT.ok : EXIT.failOn;
  });
}

/**
 * `s3scan fix --undo ID`: each saved setting of the fix written back where the setting still
 * is what the fix wrote, the buckets rescanned, the outcome recorded (`runs/<time>-undo.json`).
 */
export async function undoAndProve(
  io: CliIo,
  { store, staging }: FixStore,
  fixId: string,
  config: LoadedConfig,
  options: FixRunOptions,
): Promise<number> {
  const records = await storedFix(store, fixId);
  const saved = await savedSettings(records, fixId);
  if (saved.length === 0) {
    io.stderr(
      `Nothing to undo: fix ${fixId} was never applied (no setting was saved in ${records.describe(fixId)}).\n`,
    );
    return EXIT.ok;
  }
  assertCanConfirm(io, options, '--undo');
  return withAwsSession(options, config, async (session) => {
    io.stderr(
      `Undoing needs ${actionsToUndo(saved).join(', ')}, and the scanner's read permissions for the rescan.\n`,
    );
    const buckets = new Set(saved.map((s) => `${s.fix.account}/${s.fix.bucket}`)).size;
    const question = `Restore ${plural(saved.length, 'setting')} of fix ${fixId} on ${plural(buckets, 'bucket')} as ${session.own.arn}?`;
    if (!(await confirmed(io, options, question))) {
      io.stderr('Nothing was restored.\n');
      return EXIT.ok;
    }
    const outcome = await undoFix(fixId, portsOf(session, store));
    return rescanAndReport(io, { store, staging }, session, outcome, config, options);
  });
}

function portsOf(session: AwsSession, store: ReportStore): FixPorts {
  return {
    settings: awsSettings(session.clients),
    records: store.fixRecords(),
    by: session.own.arn,
    account: session.own.accountId,
  };
}

/** Rescans what a run touched, attaches each verdict, records and prints the outcome. */
async function rescanAndReport(
  io: CliIo,
  { store, staging }: FixStore,
  session: AwsSession,
  outcome: FixOutcome,
  config: LoadedConfig,
  options: FixRunOptions,
): Promise<number> {
  const targets = bucketsToRescan(outcome);
  let alerted: number = EXIT.ok;
  const prove = provingRescan({
    clients: session.clients,
    store,
    staging,
    config,
    accountId: session.own.accountId,
    now: () => new Date(),
    ...(options.alert
      ? {
          after: async (scanId: string) => {
            alerted = await runAlerts({ ...io, stdout: io.stderr }, store, scanId, config, {
              dryRun: false,
            });
          },
        }
      : {}),
  });
  const proof =
    targets.length > 0
      ? await prove(targets, `s3scan fix --${outcome.mode} ${outcome.fixId}`)
      : undefined;
  const proved = proof ? proveFixes(outcome, proof.scanId, proof.findings) : outcome;
  const records = store.fixRecords();
  // One record per run, never replaced: the fix's history (an undo run twice keeps both).
  const run = `runs/${proved.startedAt.replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z')}-${outcome.mode}`;
  await records.write(outcome.fixId, run, proved);
  if (options.format === 'json') io.stdout(`${JSON.stringify(proved, null, 2)}\n`);
  else io.stdout(renderOutcome(proved));
  io.stderr(
    `Outcome stored in ${records.describe(outcome.fixId)}/${run}.json.${
      outcome.mode === 'apply' && proved.results.some((r) => r.status === 'applied')
        ? ` To undo: s3scan fix --undo ${outcome.fixId} --store ${options.store}`
        : ''
    }\n`,
  );
  const code = exitCodeOf(proved);
  return code !== EXIT.ok ? code : alerted;
}

/**
 * 0 when every fix is proven (apply: the rescan says PASS; undo: the setting is restored), 1
 * when one was refused or is not proven, 3 when a write or read failed.
 */
export function exitCodeOf(outcome: FixOutcome): number {
  if (outcome.results.some((r) => r.status === 'failed')) return EXIT.runtime;
  const proven = (r: FixOutcome['results'][number]) =>
    r.status !== 'refused' &&
    (outcome.mode === 'undo' ? r.verified !== false : r.verdict?.status === 'PASS');
  return outcome.results.every(proven) ? EXIT.ok : EXIT.failOn;
}

/** One line per fix: what was done, and the rescan's verdict. */
export function renderOutcome(outcome: FixOutcome): string {
  const counts = new Map<string, number>();
  for (const r of outcome.results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const done = outcome.mode === 'apply' ? 'applied' : 'restored';
  const head = `${outcome.mode === 'apply' ? 'Applied' : 'Undid'} fix ${outcome.fixId} as ${outcome.by}: ${[
    ...counts,
  ]
    .map(([status, n]) => `${n} ${status === 'applied' ? done : status}`)
    .join(', ')}${outcome.rescanId ? `; rescan ${outcome.rescanId}` : '; no rescan'}`;
  const lines = [head];
  for (const r of outcome.results) {
    const what = r.status === 'applied' ? done : r.status;
    const verdict = r.verdict
      ? outcome.mode === 'apply' && r.verdict.status === 'PASS'
        ? ' → PASS, proven by the rescan'
        : ` → ${r.verdict.status}: ${r.verdict.message}`
      : '';
    const reason = r.reason ? ` (${r.reason})` : '';
    lines.push(`  ${r.bucket}  ${r.rule}  ${what}${reason}${verdict}`);
  }
  return `${lines.map(sanitiseLine).join('\n')}\n`;
}
