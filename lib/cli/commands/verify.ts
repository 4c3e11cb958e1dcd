import { type Command, Option } from 'commander';
import { sanitiseForTerminal } from '../../export/table.js';
import {
  IntegrityCheckedStore,
  type ScanVerification,
  verifyChain,
} from '../../report-store/integrity.js';
import { type CommandContext, EXIT, findStoredScan } from '../output.js';
import { DEFAULT_STORE } from '../paths.js';
import { storeOf, withStoreOptions } from '../store.js';

/** What `s3scan verify --format json` prints. */
interface VerifyReport {
  store: string;
  intact: boolean;
  chain: string[];
  scans: ScanVerification[];
}

/**
 * `s3scan verify`: checks a store against what was written. Every listed scan's files against
 * its manifest, each manifest against the digest index.json records, and the chain of
 * index.json's lines. Exit 0 when all is intact, 6 when anything differs.
 */
export function registerVerifyCommand(program: Command, { io, setExit }: CommandContext): void {
  withStoreOptions(
    program
      .command('verify')
      .description(
        'Check that stored scans are what was written: every file against its SHA-256, each scan against index.json, and the chain of index.json (exit 6 when not).',
      ),
    DEFAULT_STORE,
  )
    .option('--scan <id>', 'only this scan (or "latest"); default: every scan index.json lists')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (options) => {
      const { store } = storeOf(options, io);
      const checked =
        store instanceof IntegrityCheckedStore ? store : new IntegrityCheckedStore(store);
      const { index, scanId } = await findStoredScan(store, options.scan ?? 'latest');
      const ids = options.scan ? [scanId] : index.scans.map((s) => s.scanId);
      const scans: ScanVerification[] = [];
      for (const id of ids) scans.push(await checked.verifyScan(id));
      const chain = verifyChain(index);
      const intact = chain.length === 0 && scans.every((s) => s.status !== 'failed');
      const report: VerifyReport = { store: store.describe(), intact, chain, scans };
      io.stdout(options.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : table(report));
      setExit(intact ? EXIT.ok : EXIT.tampered);
    });
}

function table(report: VerifyReport): string {
  const lines: string[] = [];
  for (const scan of report.scans) {
    const what =
      scan.status === 'ok'
        ? `intact (${scan.files} files)`
        : scan.status === 'unprotected'
          ? 'not checked: stored before s3scan recorded file digests'
          : 'CHANGED';
    lines.push(`${sanitiseForTerminal(scan.scanId)}  ${what}`);
    if (scan.status === 'failed')
      for (const problem of scan.problems) lines.push(`  - ${sanitiseForTerminal(problem)}`);
  }
  for (const problem of report.chain) lines.push(`- ${sanitiseForTerminal(problem)}`);
  const failed = report.scans.filter((s) => s.status === 'failed').length;
  const unprotected = report.scans.filter((s) => s.status === 'unprotected').length;
  lines.push(
    report.intact
      ? `Store ${report.store}: intact (${report.scans.length - unprotected} scans checked${unprotected ? `, ${unprotected} stored before digests` : ''}; index.json chain holds).`
      : `Store ${report.store}: NOT as written (${failed} scans changed${report.chain.length ? `, index.json chain broken in ${report.chain.length} places` : ''}).`,
  );
  return `${lines.join('\n')}\n`;
}
