import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/config.js';
import type { ScanEvidence } from '../../evidence/types.js';
import { describeDrift, diffScans, scopeOf } from '../../history/drift.js';
import { loadEvidence } from '../../report-store/evidence-files.js';
import { LocalReportStore } from '../../report-store/local.js';
import { newScanId } from '../../report-store/scan-id.js';
import type { ReportStore } from '../../report-store/types.js';
import { type JudgedScan, judgeScan, storeJudgedScan } from '../../scan/run-scan.js';
import { parsePort } from '../options.js';
import { type CommandContext, emit, failOnOption, formatOption, loadConfig } from '../output.js';
import { DEFAULT_STORE, DEMO_CONFIG, DEMO_EVIDENCE, DEMO_PREVIOUS_EVIDENCE } from '../paths.js';
import { openStore } from '../store.js';
import { serveDashboard } from './dashboard.js';

/** The demo account's two days, judged: the day before first, so the demo shows what changed. */
interface DemoHistory {
  previous: JudgedScan;
  current: JudgedScan;
}

/** `s3scan demo` (`npm start`): the bundled demo account, judged into a local store. */
export function registerDemoCommand(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('demo')
    .description(
      'Evaluate the bundled demo account into a local report store and print the summary.',
    )
    .option('--store <dir>', 'report store folder', DEFAULT_STORE)
    .option('--config <file>', 'config file (YAML or JSON)', DEMO_CONFIG)
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .option('--no-serve', 'stop after the summary instead of serving the dashboard until Ctrl-C')
    .option('--port <n>', 'dashboard port (default: any free one)', parsePort, 0)
    .addOption(formatOption('summary'))
    .addOption(failOnOption())
    .action(async (options) => {
      const loaded = await loadConfig(options.config);
      // The bundled config is recorded as bundled, not as a path on this machine.
      const config =
        options.config === DEMO_CONFIG
          ? {
              ...loaded,
              provenance: { ...loaded.provenance, location: 'demo/s3scan.config.yml (bundled)' },
            }
          : loaded;
      const store = new LocalReportStore(options.store, io.storeAdapters);
      const earlier = await loadEvidence(DEMO_PREVIOUS_EVIDENCE);
      const evidence = await loadEvidence(DEMO_EVIDENCE);
      const judged: DemoHistory = {
        previous: judgeDemoDay(earlier, config, 'demo/demo-account-previous.json'),
        current: judgeDemoDay(evidence, config, 'demo/demo-account.json'),
      };
      // The demo account never changes: a store whose newest two scans already hold this
      // judgement keeps them, so running the demo again shows one history, not a copy per run.
      const reused = await storedDemoHistory(store, judged);
      const { previous, current } = reused ?? {
        // Each stored scan gets its own id when written; the day before goes in first.
        previous: await storeJudgedScan(renamed(judged.previous), earlier, { store }),
        current: await storeJudgedScan(renamed(judged.current), evidence, { store }),
      };
      setExit(emit(io, current.findings, current.summary, options));
      io.stderr(
        reused
          ? `The demo account is already in ${store.describe()} with the same findings (scans ${previous.summary.scanId} and ${current.summary.scanId}); nothing new was stored.\n`
          : `Report written to ${store.describe(current.summary.scanId)} (index: ${store.describe()}/index.json)\n`,
      );
      const drift = diffScans(
        {
          scanId: previous.summary.scanId,
          scanTime: previous.summary.scanTime,
          findings: previous.findings,
        },
        {
          scanId: current.summary.scanId,
          scanTime: current.summary.scanTime,
          findings: current.findings,
        },
        scopeOf(current.summary),
      );
      // Machine formats keep stdout to themselves.
      const line = `Drift: ${describeDrift(drift)}; details: s3scan diff --store ${options.store}\n`;
      if (options.format === 'table' || options.format === 'summary') io.stdout(line);
      else io.stderr(line);
      if (options.serve)
        await serveDashboard(
          io,
          openStore(options.store, {}, io.storeAdapters).store,
          options.port,
        );
    });
}

/** One bundled day of the demo account, judged and labelled as bundled. */
function judgeDemoDay(evidence: ScanEvidence, config: LoadedConfig, file: string): JudgedScan {
  return judgeScan(evidence, config, {
    source: 'demo',
    evaluatedFrom: {
      scanId: evidence.scanId,
      scanTime: evidence.scanTime,
      evidence: `${file} (bundled)`,
    },
  });
}

/** The judged scan under a fresh scan id, as it is stored. */
function renamed(judged: JudgedScan): JudgedScan {
  return { ...judged, summary: { ...judged.summary, scanId: newScanId(new Date()) } };
}

/**
 * The store's newest two scans when they are this demo history already: the newest is what
 * the dashboard opens, each comes from the same bundled day and config, and each holds exactly
 * the findings judged now. Anything else (another scan since, a changed rule or config, a
 * scan that no longer reads back whole) is stored afresh.
 */
async function storedDemoHistory(
  store: ReportStore,
  judged: DemoHistory,
): Promise<DemoHistory | undefined> {
  const index = await store.readIndex();
  const [newest, before] = index?.scans ?? [];
  if (!newest || !before || newest.scanId !== index?.latest) return undefined;
  try {
    const [current, previous] = await Promise.all([
      store.readScan(newest.scanId),
      store.readScan(before.scanId),
    ]);
    return sameJudgement(current, judged.current) && sameJudgement(previous, judged.previous)
      ? { previous, current }
      : undefined;
  } catch {
    return undefined;
  }
}

function sameJudgement(stored: JudgedScan, judged: JudgedScan): boolean {
  return (
    stored.summary.source === 'demo' &&
    stored.summary.evaluatedFrom?.scanId === judged.summary.evaluatedFrom?.scanId &&
    stored.summary.config?.sha256 === judged.summary.config?.sha256 &&
    JSON.stringify(stored.findings) === JSON.stringify(judged.findings)
  );
}
