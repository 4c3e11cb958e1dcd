import { type Command, Option } from 'commander';
import pLimit from 'p-limit';
import type { Finding } from '../../engine/types.js';
import { ConfigError } from '../../errors.js';
import { bucketEvidencePath, objectCsvPath } from '../../evidence/paths.js';
import type { BucketEvidenceFile } from '../../evidence/types.js';
import { settingDiff } from '../../remediation/diff.js';
import { objectRows } from '../../remediation/object-rows.js';
import {
  type ObjectPlan,
  objectFindingsToFix,
  planBucketObjects,
} from '../../remediation/objects.js';
import {
  type BucketFix,
  FIXABLE_RULES,
  type FixPlan,
  findingsToFix,
  planFixes,
} from '../../remediation/plan.js';
import type { ReportStore } from '../../report-store/types.js';
import { collect, parseEndpointUrl, parseSeverity } from '../options.js';
import {
  assertCanAlert,
  type CommandContext,
  EXIT,
  findStoredScan,
  loadConfig,
} from '../output.js';
import { DEFAULT_STORE } from '../paths.js';
import { storeOf, withStoreOptions } from '../store.js';
import { applyAndProve, assertCanConfirm, showJobStatus, undoAndProve } from './fix-apply.js';

/**
 * `s3scan fix`: the plan that would fix a stored scan's failing findings, printed and stored
 * as a record of its own (`fixes/<fixId>/plan.json`). It changes nothing in AWS unless asked:
 * `--apply` applies the plan after a yes and proves it by a rescan; `--undo ID` restores.
 */
export function registerFixCommand(program: Command, { io, setExit }: CommandContext): void {
  withStoreOptions(
    program
      .command('fix')
      .description(
        `Plan the fixes of a stored scan's failing findings (${Object.keys(FIXABLE_RULES).join(', ')}; objects of the s3-objects-* rules as S3 Batch Operations jobs): the exact calls, each setting before and after, and what each call keeps. --apply applies them and proves them by a rescan; --undo restores; --status follows the jobs.`,
      ),
    DEFAULT_STORE,
  )
    .option('--scan <id>', 'scan id, or "latest"', 'latest')
    .option('--bucket <name>', 'only this bucket (repeatable or comma-separated)', collect)
    .option('--rule <id>', 'only this rule (repeatable or comma-separated)', collect)
    .option('--account <id>', 'only this account (repeatable or comma-separated)', collect)
    .option('--severity <severity>', 'only findings at least this severe', parseSeverity)
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .option(
      '--apply',
      "apply the plan with the caller's credentials (asks first), then rescan the buckets and show each finding's new verdict",
    )
    .option('--yes', 'with --apply or --undo: do not ask')
    .option('--undo <fixId>', 'restore the settings a fix changed, where nobody changed them since')
    .option('--config <file>', 'config file (YAML or JSON): the rescan and the alert sinks')
    .option('--alert', "with --apply or --undo: send the rescan's drift to the sinks of the config")
    .option('--profile <name>', 'AWS shared-config profile')
    .option('--endpoint-url <url>', 'send S3 requests to this endpoint', parseEndpointUrl)
    .option('--path-style', 'with --endpoint-url: address buckets as <endpoint>/<bucket>')
    .option(
      '--job-bucket <name>',
      "with --apply: a bucket of the account for the Batch Operations jobs' manifests and completion reports",
    )
    .option(
      '--batch-role <arn>',
      'with --apply: the role S3 Batch Operations runs the jobs as (the stack output RemediationBatchRoleArn)',
    )
    .option(
      '--copy',
      'with --apply: also create the copy jobs the plan offers (they change what an update keeps)',
    )
    .option('--status <fixId>', "show the state of a fix's Batch Operations jobs")
    .action(async (options) => {
      assertOneMode(options);
      const config = await loadConfig(options.config);
      assertCanAlert(options, config);
      const cliStore = storeOf(options, io);
      const { store } = cliStore;
      if (options.undo) {
        setExit(await undoAndProve(io, cliStore, options.undo, config, options));
        return;
      }
      if (options.status) {
        setExit(await showJobStatus(io, store, options.status, config, options));
        return;
      }
      // Refused before any plan is stored: no terminal to ask at, and no --yes.
      if (options.apply) assertCanConfirm(io, options, '--apply');
      const { scanId } = await findStoredScan(store, options.scan);
      const { findings } = await store.readScan(scanId);
      const filters = {
        ...(options.bucket ? { buckets: options.bucket } : {}),
        ...(options.rule ? { rules: options.rule } : {}),
        ...(options.account ? { accounts: options.account } : {}),
        ...(options.severity ? { severity: options.severity } : {}),
      };
      const objectFindings = objectFindingsToFix(findings, filters);
      const evidence = await bucketEvidenceOf(store, scanId, [
        ...findingsToFix(findings, filters),
        ...objectFindings,
      ]);
      const plan = planFixes({
        scanId,
        findings,
        evidenceOf: (f) => evidence.get(bucketKey(f)),
        filters,
        now: new Date(),
      });
      const objects = await planObjects(store, scanId, objectFindings, evidence);
      if (objectFindings.length > 0) {
        plan.objectJobs = objects.jobs;
        plan.objectsLeft = objects.left;
      }
      const records = store.fixRecords();
      if (!(await records.create(plan.fixId, 'plan', plan)))
        throw new ConfigError(`${records.describe(plan.fixId)} already holds a plan`);
      // Each job's objects, apart from the plan: a manifest may list millions of keys.
      for (const [id, rows] of objects.manifests)
        await records.write(plan.fixId, `manifests/${id}`, rows);
      if (options.apply) {
        // The plan on stderr, read before the question; stdout holds the outcome.
        if (options.format === 'table') io.stderr(renderPlan(plan, { applying: true }));
        io.stderr(`Plan ${plan.fixId} stored in ${records.describe(plan.fixId)}/plan.json.\n`);
        setExit(await applyAndProve(io, cliStore, plan, config, options));
        return;
      }
      if (options.format === 'json') io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
      else io.stdout(renderPlan(plan));
      io.stderr(
        `Plan ${plan.fixId} stored in ${records.describe(plan.fixId)}/plan.json; nothing was applied (--apply applies it).\n`,
      );
      setExit(EXIT.ok);
    });
}

/**
 * `--undo` and `--status` act on a fix already made and plan nothing: the plan's filters and
 * --apply do not go with them, nor do they go together.
 */
function assertOneMode(options: Record<string, unknown>): void {
  const mode = options.undo ? 'undo' : options.status ? 'status' : undefined;
  if (!mode) return;
  const planning = ['apply', 'bucket', 'rule', 'account', 'severity', 'copy'].filter(
    (o) => options[o] !== undefined,
  );
  if (options.scan !== 'latest') planning.push('scan');
  if (mode === 'undo' && options.status) planning.push('status');
  if (planning.length > 0)
    throw new ConfigError(
      `--${mode} ${mode === 'undo' ? 'restores a fix already applied' : "shows a fix's jobs"} and plans nothing: drop ${planning.map((o) => `--${o}`).join(', ')}`,
    );
}

/** The object part of a plan: each bucket's failing object findings, from its per-object CSV. */
async function planObjects(
  store: ReportStore,
  scanId: string,
  findings: readonly Finding[],
  evidence: Map<string, BucketEvidenceFile>,
): Promise<ObjectPlan> {
  const plan: ObjectPlan = { jobs: [], manifests: new Map(), left: [] };
  const byBucket = new Map<string, Finding[]>();
  for (const f of findings) byBucket.set(bucketKey(f), [...(byBucket.get(bucketKey(f)) ?? []), f]);
  for (const [key, bucketFindings] of byBucket) {
    const file = evidence.get(key);
    const resource = bucketFindings[0]?.resource;
    if (!file || !resource) {
      for (const f of bucketFindings)
        plan.left.push({
          bucket: f.resource.name,
          account: f.resource.account,
          rule: f.ruleId,
          reason: 'the scan holds no evidence of this bucket',
          objects: 0,
          examples: [],
        });
      continue;
    }
    const path = objectCsvPath(resource.account, resource.name);
    const bytes = await store.readScanFile(scanId, path);
    try {
      const part = await planBucketObjects({
        findings: bucketFindings,
        evidence: file,
        rows: bytes ? objectRows(bytes) : undefined,
      });
      plan.jobs.push(...part.jobs);
      plan.left.push(...part.left);
      for (const [id, rows] of part.manifests) plan.manifests.set(id, rows);
    } catch (error) {
      throw new ConfigError(
        `${store.describe(scanId)}/${path} is corrupt: ${(error as Error).message}`,
      );
    }
  }
  return plan;
}

const bucketKey = (f: Finding) => `${f.resource.account}\n${f.resource.region}\n${f.resource.name}`;

/** The evidence file of each bucket a fix is planned for, read once per bucket, 16 at a time. */
async function bucketEvidenceOf(
  store: ReportStore,
  scanId: string,
  findings: readonly Finding[],
): Promise<Map<string, BucketEvidenceFile>> {
  const buckets = new Map(findings.map((f) => [bucketKey(f), f.resource]));
  const limit = pLimit(16);
  const read = await Promise.all(
    [...buckets].map(([key, r]) =>
      limit(async () => {
        const path = bucketEvidencePath(r.account, r.region, r.name);
        const bytes = await store.readScanFile(scanId, path);
        if (!bytes) return undefined;
        try {
          return [key, JSON.parse(bytes.toString('utf8')) as BucketEvidenceFile] as const;
        } catch {
          throw new ConfigError(`${store.describe(scanId)}/${path} is corrupt: not valid JSON`);
        }
      }),
    ),
  );
  return new Map(read.filter((entry) => entry !== undefined));
}

/** The plan for a person: per bucket, the change as a diff of the setting, the call, what it keeps. */
export function renderPlan(plan: FixPlan, { applying = false } = {}): string {
  const lines = [
    `Fix plan ${plan.fixId}, from scan ${plan.scanId}: ${plan.fixes.length} fix(es), ${plan.refused.length} not planned${plan.objectJobs?.length ? `, ${plan.objectJobs.length} object job(s)` : ''}.${applying ? '' : ' Nothing is applied.'}`,
  ];
  const byBucket = new Map<string, BucketFix[]>();
  for (const fix of plan.fixes) {
    const key = `${fix.bucket} (${fix.account}, ${fix.region})`;
    byBucket.set(key, [...(byBucket.get(key) ?? []), fix]);
  }
  for (const [bucket, fixes] of byBucket) {
    lines.push('', bucket);
    for (const fix of fixes) {
      lines.push(`  ${fix.rule}: ${fix.setting}`, `    ${fix.change}`);
      for (const line of settingDiff(fix)) lines.push(`    ${line}`);
      for (const call of fix.calls) lines.push(`    call: ${call.api} (needs ${call.action})`);
      for (const kept of fix.keeps) lines.push(`    keeps: ${kept}`);
    }
  }
  if ((plan.objectJobs ?? []).length > 0) {
    lines.push('', 'Objects: S3 Batch Operations jobs (created with confirmation required):');
    for (const job of plan.objectJobs ?? []) {
      const target =
        job.target.algorithm === 'aws:kms'
          ? `SSE-KMS under ${job.target.kmsKeyArn}${job.target.bucketKeyEnabled ? ', Bucket Key on' : ''}`
          : 'SSE-S3';
      lines.push(
        `  ${job.bucket} (${job.account}, ${job.region}): ${job.operation} of ${job.source ? `every such object (the scan saw ${job.objects})` : `${job.objects} object(s), ${job.bytes} bytes`}${job.storageClass ? ` in ${job.storageClass}` : ''}, to ${target}${job.needsConsent ? ' [only with --copy]' : ''}`,
        `    fixes: ${job.rules.map((r) => r.rule).join(', ')}; e.g. ${job.examples.join(', ')}`,
      );
      for (const effect of job.effects) lines.push(`    ${effect}`);
    }
  }
  if ((plan.objectsLeft ?? []).length > 0) {
    lines.push('', 'Objects not fixed:');
    for (const left of plan.objectsLeft ?? [])
      lines.push(
        `  ${left.bucket} ${left.rule}: ${left.objects > 0 ? `${left.objects} object(s) (e.g. ${left.examples.join(', ')}): ` : ''}${left.reason}`,
      );
  }
  if (plan.refused.length > 0) {
    lines.push('', 'Not planned:');
    for (const r of plan.refused) lines.push(`  ${r.bucket} ${r.rule}: ${r.reason}`);
  }
  if (plan.actions.length > 0 && !applying)
    lines.push('', `Applying it needs: ${plan.actions.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
