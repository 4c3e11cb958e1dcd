import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { LocalReportStore } from '../../report-store/local.js';
import { type CommandContext, emit, failOnOption, formatOption } from '../output.js';
import { DEFAULT_STORE } from '../paths.js';

/** `s3scan report`: print a stored scan again. */
export function registerReportCommand(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('report')
    .description('Print a stored report.')
    .option('--store <dir>', 'report store folder', DEFAULT_STORE)
    .option('--scan <id>', 'scan id, or "latest"', 'latest')
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .addOption(formatOption())
    .addOption(failOnOption())
    .action(async (options) => {
      const store = new LocalReportStore(options.store);
      const index = await store.readIndex();
      if (!index)
        throw new ConfigError(
          `no scans in ${store.describe()} (index.json not found); run s3scan scan or npm start first`,
        );
      const scanId = options.scan === 'latest' ? index.latest : options.scan;
      if (!index.scans.some((s) => s.scanId === scanId)) {
        throw new ConfigError(`scan ${scanId} is not in ${store.describe()}/index.json`);
      }
      const { summary, findings } = await store.readScan(scanId);
      setExit(emit(io, findings, summary, options));
    });
}
