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
  // A mistyped --store is said before serving, not discovered as an empty page; the page
  // then says the same, with the command that fixes it.
  const warning = await storeWarning(store);
  if (warning) io.stderr(`s3scan: warning: ${warning}\n`);
  const server = await startDashboardServer({
    store,
    webRoot: WEB_ROOT,
    port,
  });
  // The handlers go in before the line is printed: a Ctrl-C (or a test's SIGINT) the moment
  // the line appears stops the server cleanly instead of killing the process.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.stdout(`Dashboard: ${server.url}\n`);
  io.stderr('Serving on 127.0.0.1 only; Ctrl-C stops it.\n');
  await stopped;
  await server.close();
}

/** Why the dashboard of this store will show a state page instead of scans, if it will. */
async function storeWarning(store: ReportStore): Promise<string | undefined> {
  const where = store.describe();
  let index: Awaited<ReturnType<ReportStore['readIndex']>>;
  try {
    index = await store.readIndex();
  } catch (error) {
    return `${(error as Error).message}; the dashboard will say so. s3scan verify --store ${where} checks the store.`;
  }
  if (index && index.scans.length > 0) return undefined;
  const foreign = (await store.foreignEntries?.()) ?? [];
  if (foreign.length > 0)
    return `${where} is not an s3scan report store (no index.json; it holds ${foreign.join(', ')}). Pass the folder s3scan scan wrote to (./s3scan-reports by default).`;
  return `${where} holds no scans yet (no index.json); the dashboard will be empty. Run s3scan scan --store ${where}, or npm start for the demo account.`;
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
