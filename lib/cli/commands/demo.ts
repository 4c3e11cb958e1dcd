import type { Command } from 'commander';
import { loadEvidence } from '../../report-store/evidence-files.js';
import { newScanId } from '../../report-store/scan-id.js';
import {
  type CommandContext,
  failOnOption,
  formatOption,
  loadConfig,
  storeAndEmit,
} from '../output.js';
import { DEFAULT_STORE, DEMO_CONFIG, DEMO_EVIDENCE } from '../paths.js';

/** `s3scan demo` (`npm start`): the bundled demo account, judged into a local store. */
export function registerDemoCommand(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('demo')
    .description(
      'Evaluate the bundled demo account into a local report store and print the summary.',
    )
    .option('--store <dir>', 'report store folder', DEFAULT_STORE)
    .option('--config <file>', 'config file (YAML or JSON)', DEMO_CONFIG)
    .option(
      '--no-serve',
      'do not serve the dashboard afterwards (it does not exist yet, so nothing is served)',
    )
    .option('--all', 'show PASS and SKIPPED findings in the table too')
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
      const evidence = await loadEvidence(DEMO_EVIDENCE);
      setExit(
        await storeAndEmit(io, evidence, config, {
          storeDir: options.store,
          source: 'demo',
          output: options,
          scanId: newScanId(new Date()),
          evaluatedFrom: {
            scanId: evidence.scanId,
            scanTime: evidence.scanTime,
            evidence: 'demo/demo-account.json (bundled)',
          },
        }),
      );
    });
}
