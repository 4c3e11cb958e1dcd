import type { SettingsPort } from '../aws/bucket-settings.js';
import type { AwsClients } from '../collect/clients.js';
import type { LoadedConfig, RemediationSettings } from '../config/config.js';
import type { Finding } from '../engine/types.js';
import { bucketEvidencePath } from '../evidence/paths.js';
import type { BucketEvidenceFile } from '../evidence/types.js';
import { sanitiseLine } from '../export/table.js';
import { newScanId } from '../report-store/scan-id.js';
import type { ReportStore } from '../report-store/types.js';
import type { WorkArea } from '../report-store/work-area.js';
import { runRescan } from '../scan/rescan.js';
import { applyPlan, bucketsToRescan, type FixOutcome, proveFixes } from './apply.js';
import { type FixPlan, findingsToFix, planFixes } from './plan.js';

/**
 * Fixes a rescan makes by itself (issue 26, item 6): after a rescan, the FAILs of the rules the
 * config's `remediation.autoFix` names are planned from that rescan's own evidence, recorded,
 * and, unless it is a dry run (the default), applied and proven by a second rescan of those
 * buckets, whose drift the host alerts (its cause names the fix). The fix is named after the
 * rescan (`fix-<rescanId>`): a retry of the same rescan finds its plan and does not plan
 * again; a retried event makes a new rescan, which reads the setting as the first attempt
 * left it (fixed: nothing to do; not written: fixed now).
 */

/** What an automatic fix did: its plan, and what applying it did (absent in a dry run). */
export interface AutoFixOutcome {
  plan: FixPlan;
  dryRun: boolean;
  /** Why nothing was applied although it is not a dry run. */
  refused?: string;
  outcome?: FixOutcome;
}

/** The rescan that proves a fix: the buckets named, the cause recorded as its event. */
export type ProvingRescan = (
  buckets: { account: string; region: string; bucket: string }[],
  event: string,
) => Promise<{ scanId: string; findings: Finding[] } | undefined>;

/** An automatic fix's id: the rescan it follows (`fix-<rescanId>`, the shape of every fix id). */
export const autoFixId = (rescanId: string) => `fix-${rescanId}`;

/**
 * Plans the config's automatic fixes after a rescan and, unless it is a dry run, applies them
 * with the remediation port and proves them by `ports.prove`; undefined when no named rule fails.
 */
export async function autoFix(
  input: {
    rescan: { scanId: string; findings: readonly Finding[] };
    settings: RemediationSettings['autoFix'];
    now: Date;
  },
  ports: {
    store: ReportStore;
    /** The remediation role's settings port; absent: nothing can be written. */
    settings?: SettingsPort;
    /** Who writes (the remediation role's ARN), and its account. */
    by: string;
    account: string;
    prove: ProvingRescan;
  },
): Promise<AutoFixOutcome | undefined> {
  const { rescan, settings } = input;
  const filters = { rules: settings.rules };
  const failing = findingsToFix(rescan.findings, filters);
  if (failing.length === 0) return undefined;
  const evidence = new Map<string, BucketEvidenceFile>();
  for (const f of failing) {
    const path = bucketEvidencePath(f.resource.account, f.resource.region, f.resource.name);
    const bytes = await ports.store.readScanFile(rescan.scanId, path);
    if (bytes) evidence.set(path, JSON.parse(bytes.toString('utf8')) as BucketEvidenceFile);
  }
  const planned = planFixes({
    scanId: rescan.scanId,
    findings: rescan.findings,
    evidenceOf: (f) =>
      evidence.get(bucketEvidencePath(f.resource.account, f.resource.region, f.resource.name)),
    filters,
    now: input.now,
  });
  const plan: FixPlan = { ...planned, fixId: autoFixId(rescan.scanId), automatic: true };
  const records = ports.store.fixRecords();
  const stamp = input.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d+)Z$/, '$1Z');
  if (!(await records.create(plan.fixId, 'plan', plan))) {
    // An earlier attempt of this rescan planned it: its records say what it did.
    return { plan, dryRun: settings.dryRun, refused: 'planned by an earlier attempt' };
  }
  if (settings.dryRun || plan.fixes.length === 0) {
    await records.write(plan.fixId, `runs/${stamp}-dry-run`, {
      at: input.now.toISOString(),
      dryRun: settings.dryRun,
      fixes: plan.fixes.length,
      refused: plan.refused.length,
    });
    return { plan, dryRun: settings.dryRun };
  }
  if (!ports.settings) {
    const refused =
      'remediation.autoFix.dryRun is false, but this host has no remediation role to write with (deploy with remediation: enabled)';
    await records.write(plan.fixId, `runs/${stamp}-refused`, {
      at: input.now.toISOString(),
      refused,
    });
    return { plan, dryRun: false, refused };
  }
  const applied = await applyPlan(plan, {
    settings: ports.settings,
    records,
    by: ports.by,
    account: ports.account,
  });
  const targets = bucketsToRescan(applied);
  const proof =
    targets.length > 0 ? await ports.prove(targets, `s3scan auto-fix ${plan.fixId}`) : undefined;
  const outcome = proof ? proveFixes(applied, proof.scanId, proof.findings) : applied;
  await records.write(plan.fixId, `runs/${stamp}-apply`, outcome);
  return { plan, dryRun: false, outcome };
}

/**
 * The proving rescan as both hosts make it: the buckets re-read with the scanner's clients,
 * stored as a rescan whose event names the fix, then `after` (the host's alerts) run on it.
 */
export function provingRescan(ports: {
  clients: AwsClients;
  store: ReportStore;
  /** Where a local store stages per-object files (the CLI's). */
  staging?: (scanId: string) => WorkArea;
  config: LoadedConfig;
  accountId: string;
  now: () => Date;
  after?: (scanId: string) => Promise<unknown>;
}): ProvingRescan {
  return async (buckets, event) => {
    const scanTime = ports.now();
    const rescan = await runRescan(
      {
        targets: { buckets: buckets.map((b) => ({ ...b, events: [event] })), keys: [] },
        config: ports.config,
        scanId: newScanId(scanTime),
        scanTime,
        accountId: ports.accountId,
      },
      {
        clients: ports.clients,
        store: ports.store,
        ...(ports.staging ? { staging: ports.staging } : {}),
      },
    );
    if (!rescan.scan) return undefined;
    await ports.after?.(rescan.scan.scanId);
    return { scanId: rescan.scan.scanId, findings: rescan.scan.findings };
  };
}

/** An automatic fix in a few lines: dry run or applied, and each fix's verdict. */
export function describeAutoFix(auto: AutoFixOutcome): string {
  const { plan } = auto;
  const lines = [
    auto.dryRun
      ? `Automatic fix ${plan.fixId} (dry run): ${plan.fixes.length} fix(es) planned, nothing written; s3scan fix --apply --bucket … applies one, or set remediation.autoFix.dryRun: false`
      : auto.refused
        ? `Automatic fix ${plan.fixId}: nothing written: ${auto.refused}`
        : `Automatic fix ${plan.fixId}: ${auto.outcome?.results.filter((r) => r.status === 'applied').length ?? 0} applied${auto.outcome?.rescanId ? `, proven by rescan ${auto.outcome.rescanId}` : ''}`,
  ];
  for (const r of auto.outcome?.results ?? [])
    lines.push(
      `  ${r.bucket} ${r.rule}: ${r.status}${r.reason ? ` (${r.reason})` : ''}${r.verdict ? ` → ${r.verdict.status}` : ''}`,
    );
  for (const fix of auto.dryRun ? plan.fixes : [])
    lines.push(`  would fix ${fix.bucket} ${fix.rule}: ${fix.change}`);
  for (const r of plan.refused) lines.push(`  not planned ${r.bucket} ${r.rule}: ${r.reason}`);
  return `${lines.map(sanitiseLine).join('\n')}\n`;
}

/**
 * What an automatic fix adds to its rescan's alert: a dry run's plan (what it would fix), so
 * the sinks hear of it although nothing was written. Applied fixes are alerted by their
 * proving rescan, whose cause names the fix.
 */
export function autoFixNote(auto: AutoFixOutcome | undefined): string | undefined {
  if (!auto || !auto.dryRun || auto.plan.fixes.length === 0) return undefined;
  const named = auto.plan.fixes.slice(0, 10).map((f) => `${f.bucket} ${f.rule}`);
  const more = auto.plan.fixes.length - named.length;
  return `automatic fix ${auto.plan.fixId} (dry run, nothing written) would fix ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
