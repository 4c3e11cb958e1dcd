import { type Command, Option } from 'commander';
import type { AlertReport } from '../../alerts/dispatch.js';
import { firstSeenOfScan } from '../../alerts/run-alerts.js';
import { summarize } from '../../engine/evaluate.js';
import type { Finding } from '../../engine/types.js';
import { ConfigError } from '../../errors.js';
import { composePosture, rescansOver } from '../../history/previous.js';
import type { ReportStore, ScanSummaryFile, StoreIndex } from '../../report-store/types.js';
import { collect } from '../options.js';
import {
  type CommandContext,
  emit,
  failOnOption,
  findStoredScan,
  formatOption,
} from '../output.js';
import { DEFAULT_STORE } from '../paths.js';
import { storeOf, withStoreOptions } from '../store.js';
import { alertOutcomeLine } from './alert.js';

/**
 * A stored scan cut down to some of its accounts: their findings, and the summary counted
 * again from them (so `--fail-on` judges those accounts only). An account the scan did not
 * cover is refused, naming the ones it did.
 */
export function forAccounts(
  scan: { summary: ScanSummaryFile; findings: Finding[] },
  accounts: string[],
): { summary: ScanSummaryFile; findings: Finding[] } {
  const { summary } = scan;
  const covered = summary.accounts?.map((a) => a.accountId) ?? [summary.accountId];
  const unknown = accounts.filter((a) => !covered.includes(a));
  if (unknown.length > 0)
    throw new ConfigError(
      `--account ${unknown.join(', ')}: scan ${summary.scanId} covered ${covered.length === 1 ? 'only account' : 'the accounts'} ${covered.slice(0, 20).join(', ')}${covered.length > 20 ? ', …' : ''}`,
    );
  const wanted = new Set(accounts);
  const findings = scan.findings.filter((f) => wanted.has(f.resource.account));
  const buckets = new Set(
    findings.filter((f) => f.resource.type === 'AWS::S3::Bucket').map((f) => f.resource.arn),
  );
  const records = summary.accounts?.filter((a) => wanted.has(a.accountId));
  const counted = summarize(
    {
      scanId: summary.scanId,
      scanTime: summary.scanTime,
      accountId: summary.accountId,
      buckets: [...buckets],
      accounts: records,
    },
    findings,
    { expiredSuppressions: summary.expiredSuppressions, disabledRules: summary.disabledRules },
  );
  return { summary: { ...summary, ...counted }, findings };
}

/**
 * The posture now of a stored full scan: its findings with each bucket rescanned since as its
 * newest rescan saw it (the dashboard's rule), and the summary counted again from them. A
 * scan no rescan followed is itself. Says on stderr what it composed.
 */
export async function postureNow(
  store: ReportStore,
  index: StoreIndex,
  scan: { summary: ScanSummaryFile; findings: Finding[] },
): Promise<{ summary: ScanSummaryFile; findings: Finding[]; rescans: string[] }> {
  const entry = index.scans.find((s) => s.scanId === scan.summary.scanId);
  const rescans = entry ? rescansOver(index.scans, entry) : [];
  if (rescans.length === 0) return { ...scan, rescans: [] };
  const read = await Promise.all(
    rescans.map(async (r) => ({ entry: r, findings: (await store.readScan(r.scanId)).findings })),
  );
  const findings = composePosture(scan.findings, read);
  const { summary } = scan;
  const buckets = new Set(
    findings.filter((f) => f.resource.type === 'AWS::S3::Bucket').map((f) => f.resource.arn),
  );
  const counted = summarize(
    {
      scanId: summary.scanId,
      scanTime: summary.scanTime,
      accountId: summary.accountId,
      buckets: [...buckets],
      accounts: summary.accounts,
    },
    findings,
    { expiredSuppressions: summary.expiredSuppressions, disabledRules: summary.disabledRules },
  );
  return { summary: { ...summary, ...counted }, findings, rescans: rescans.map((r) => r.scanId) };
}

/** `s3scan report`: print a stored scan again. */
export function registerReportCommand(program: Command, { io, setExit }: CommandContext): void {
  withStoreOptions(program.command('report').description('Print a stored report.'), DEFAULT_STORE)
    .option('--scan <id>', 'scan id, or "latest"', 'latest')
    .option(
      '--account <id>',
      'only this account of an organisation-wide scan (repeatable or comma-separated); counts and --fail-on follow',
      collect,
    )
    .addOption(
      new Option(
        '--posture <which>',
        'scan: the scan as stored; now: a full scan with each bucket rescanned since as its newest rescan saw it (counts and --fail-on follow)',
      )
        .choices(['scan', 'now'])
        .default('scan'),
    )
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .addOption(formatOption())
    .addOption(failOnOption())
    .action(async (options) => {
      const { store } = storeOf(options, io);
      const { scanId, index } = await findStoredScan(store, options.scan);
      let stored = await store.readScan(scanId);
      if (options.posture === 'now') {
        const now = await postureNow(store, index, stored);
        io.stderr(
          now.rescans.length > 0
            ? `Posture now: scan ${scanId} with ${now.rescans.length} rescan(s) since (${now.rescans.join(', ')}), the newest look at each bucket winning\n`
            : `Posture now: no rescan followed scan ${scanId}; it is shown as stored\n`,
        );
        stored = now;
      }
      const { summary, findings } = options.account ? forAccounts(stored, options.account) : stored;
      // ASFF's FirstObservedAt: when each FAIL was first seen, as the alert runs recorded it.
      const firstSeen =
        options.format === 'asff' ? await firstSeenOfScan(store, scanId) : undefined;
      setExit(emit(io, findings, summary, { ...options, ...(firstSeen ? { firstSeen } : {}) }));
      // What the alert sinks were sent for this scan, from the alert ledger (on stderr, so
      // machine formats keep stdout to themselves).
      const outcome = (await store.alertLedger().read(scanId, 'outcome')) as
        | AlertReport
        | undefined;
      if (outcome) io.stderr(`${alertOutcomeLine(outcome)}\n`);
    });
}
