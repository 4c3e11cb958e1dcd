import type { Command } from 'commander';
import { startDashboardServer } from '../../dashboard/server.js';
import type { ReportStore } from '../../report-store/types.js';
import type { CliIo } from '../io.js';
import { parsePort } from '../options.js';
import type { CommandContext } from '../output.js';
import { DEFAULT_STORE, WEB_ROOT } from '../paths.js';
import { storeOf, withStoreOptions } from '../store.js';

/**
 * Serves a store's dashboard on 127.0.0.1 until SIGINT or SIGTERM, printing the one
 * line with its URL and per-run token.
 */
export async function serveDashboard(io: CliIo, store: ReportStore, port = 0): Promise<void> {
  // A mistyped --store is said before serving, not discovered as an empty page.
  const index = await store.readIndex();
  if (!index || index.scans.length === 0)
    io.stderr(
      `s3scan: warning: ${store.describe()} holds no scans yet (no index.json); the dashboard will be empty. Run s3scan scan --store ${store.describe()}, or npm start for the demo account.\n`,
    );
  const server = await startDashboardServer({
    store,
    webRoot: WEB_ROOT,
    port,
  });
  io.stdout(`Dashboard: ${server.url}\n`);
  io.stderr('Serving on 127.0.0.1 only; Ctrl-C stops it.\n');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
}

/** `s3scan dashboard`: the dashboard of a local report store. */
export function registerDashboardCommand(program: Command, { io }: CommandContext): void {
  withStoreOptions(
    program
      .command('dashboard')
      .description(
        'Serve the dashboard of a report store (a folder or s3://) on 127.0.0.1, with a per-run access token.',
      ),
    DEFAULT_STORE,
  )
    .option('--port <n>', 'port (default: any free one)', parsePort, 0)
    .action(async (options) => {
      await serveDashboard(io, storeOf(options, io).store, options.port);
    });
}
