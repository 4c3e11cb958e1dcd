import type { Command } from 'commander';
import type { AlertReport } from '../../alerts/dispatch.js';
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

/** `s3scan report`: print a stored scan again. */
export function registerReportCommand(program: Command, { io, setExit }: CommandContext): void {
  withStoreOptions(program.command('report').description('Print a stored report.'), DEFAULT_STORE)
    .option('--scan <id>', 'scan id, or "latest"', 'latest')
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .addOption(formatOption())
    .addOption(failOnOption())
    .action(async (options) => {
      const { store } = storeOf(options);
      const { scanId } = await findStoredScan(store, options.scan);
      const { summary, findings } = await store.readScan(scanId);
      setExit(emit(io, findings, summary, options));
      // What the alert sinks were sent for this scan, from the alert ledger (on stderr, so
      // machine formats keep stdout to themselves).
      const outcome = (await store.alertLedger().read(scanId, 'outcome')) as
        | AlertReport
        | undefined;
      if (outcome) io.stderr(`${alertOutcomeLine(outcome)}\n`);
    });
}
