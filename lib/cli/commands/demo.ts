import type { Command } from 'commander';
import { describeDrift, diffScans, scopeOf } from '../../history/drift.js';
import { loadEvidence } from '../../report-store/evidence-files.js';
import { LocalReportStore } from '../../report-store/local.js';
import { newScanId } from '../../report-store/scan-id.js';
import { judgeAndStore } from '../../scan/run-scan.js';
import { parsePort } from '../options.js';
import {
  type CommandContext,
  failOnOption,
  formatOption,
  loadConfig,
  storeAndEmit,
} from '../output.js';
import { DEFAULT_STORE, DEMO_CONFIG, DEMO_EVIDENCE, DEMO_PREVIOUS_EVIDENCE } from '../paths.js';
import { openStore } from '../store.js';
import { serveDashboard } from './dashboard.js';

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
      // The account a day earlier goes in first, so the demo shows what changed since.
      const earlier = await loadEvidence(DEMO_PREVIOUS_EVIDENCE);
      const previous = await judgeAndStore(earlier, config, {
        store: new LocalReportStore(options.store, io.storeAdapters),
        source: 'demo',
        scanId: newScanId(new Date()),
        evaluatedFrom: {
          scanId: earlier.scanId,
          scanTime: earlier.scanTime,
          evidence: 'demo/demo-account-previous.json (bundled)',
        },
      });
      const evidence = await loadEvidence(DEMO_EVIDENCE);
      const scanId = newScanId(new Date());
      const current = await storeAndEmit(io, evidence, config, {
        storeDir: options.store,
        source: 'demo',
        output: options,
        scanId,
        evaluatedFrom: {
          scanId: evidence.scanId,
          scanTime: evidence.scanTime,
          evidence: 'demo/demo-account.json (bundled)',
        },
      });
      const drift = diffScans(
        {
          scanId: previous.summary.scanId,
          scanTime: previous.summary.scanTime,
          findings: previous.findings,
        },
        { scanId, scanTime: current.summary.scanTime, findings: current.findings },
        scopeOf(current.summary),
      );
      // Machine formats keep stdout to themselves.
      const line = `Drift: ${describeDrift(drift)}; details: s3scan diff --store ${options.store}\n`;
      if (options.format === 'table' || options.format === 'summary') io.stdout(line);
      else io.stderr(line);
      setExit(current.code);
      if (options.serve)
        await serveDashboard(
          io,
          openStore(options.store, {}, io.storeAdapters).store,
          options.port,
        );
    });
}
