import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadEvidence } from '../../report-store/evidence-files.js';
import { newScanId } from '../../report-store/scan-id.js';
import { evaluateScan } from '../../scan/evaluate-scan.js';
import {
  type CommandContext,
  emit,
  failOnOption,
  formatOption,
  loadConfig,
  storeAndEmit,
} from '../output.js';

/** `s3scan evaluate`: judge recorded evidence again, with no AWS call. */
export function registerEvaluateCommand(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('evaluate')
    .description('Re-run the rules on recorded evidence (a file or a folder); makes no AWS call.')
    .requiredOption('--evidence <path>', 'evidence file, or a folder such as scans/<id>/evidence')
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--store <dir>', 'also write the result to this report store')
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .addOption(formatOption())
    .addOption(failOnOption())
    .action(async (options) => {
      const config = await loadConfig(options.config);
      const evidence = await loadEvidence(options.evidence);
      if (options.store) {
        const stored = await storeAndEmit(io, evidence, config, {
          storeDir: options.store,
          source: 'evaluate',
          output: options,
          // Stored scans are immutable: a re-evaluation gets a scan id of its own.
          scanId: newScanId(new Date()),
          evaluatedFrom: {
            scanId: evidence.scanId,
            scanTime: evidence.scanTime,
            evidence: resolve(options.evidence),
          },
        });
        setExit(stored.code);
        return;
      }
      const { findings, summary } = evaluateScan(evidence, config.evaluation);
      setExit(emit(io, findings, summary, options));
    });
}
