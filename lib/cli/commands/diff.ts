import { type Command, Option } from 'commander';
import { ConfigError } from '../../errors.js';
import { sanitiseForTerminal, sanitiseLine } from '../../export/table.js';
import { CHANGE_KINDS, type Drift, describeDrift, scopeOf } from '../../history/drift.js';
import { diffFindingStreams } from '../../history/drift-stream.js';
import { type CommandContext, findStoredScan } from '../output.js';
import { DEFAULT_STORE } from '../paths.js';
import { storeOf, withStoreOptions } from '../store.js';

/** `s3scan diff`: what changed between two stored scans of one account. */
export function registerDiffCommand(program: Command, { io }: CommandContext): void {
  withStoreOptions(
    program
      .command('diff')
      .description(
        'What changed between two stored scans: new, regressed, resolved, unverifiable, gone, still failing.',
      ),
    DEFAULT_STORE,
  )
    .option('--from <id>', 'the earlier scan (default: the one before --to, same account)')
    .option('--to <id>', 'the later scan, or "latest"', 'latest')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (options) => {
      const { store } = storeOf(options, io);
      const { index, scanId: toId, position } = await findStoredScan(store, options.to);
      const to = index.scans[position]!;
      // index.json lists scans newest first: the previous scan of the account comes after.
      const fromId =
        options.from ??
        index.scans.slice(position + 1).find((s) => s.accountId === to.accountId)?.scanId;
      if (!fromId)
        throw new ConfigError(
          `scan ${toId} is the first of account ${to.accountId} in ${store.describe()}; there is nothing to compare it with`,
        );
      await findStoredScan(store, fromId);
      const [previous, current] = await Promise.all([
        store.readSummary(fromId),
        store.readSummary(toId),
      ]);
      // Streamed: two scans of a million findings are compared without holding either.
      const drift = await diffFindingStreams(
        { scanId: fromId, scanTime: previous.scanTime, lines: () => store.findingLines(fromId) },
        { scanId: toId, scanTime: current.scanTime, lines: () => store.findingLines(toId) },
        scopeOf(current),
      );
      io.stdout(options.format === 'json' ? driftJson(drift) : driftTable(drift));
    });
}

/** One object: the scans, the scope, the counts, and an array per change kind. */
function driftJson(drift: Drift): string {
  const kinds = Object.fromEntries(
    CHANGE_KINDS.map((kind) => [
      kind,
      drift.changes[kind].map((entry) => ({
        ...(entry.current ?? entry.previous),
        previousStatus: entry.previous?.status ?? null,
        ...(entry.previous && entry.current && entry.previous.severity !== entry.current.severity
          ? { previousSeverity: entry.previous.severity }
          : {}),
        ...(entry.firstSeen ? { firstSeen: entry.firstSeen } : {}),
        lastSeen: entry.lastSeen,
      })),
    ]),
  );
  return `${JSON.stringify({ from: drift.from, to: drift.to, scope: drift.scope, counts: drift.counts, ...kinds }, null, 2)}\n`;
}

function driftTable(drift: Drift): string {
  const lines = [`${drift.from.scanId} -> ${drift.to.scanId}: ${describeDrift(drift)}`];
  for (const kind of CHANGE_KINDS) {
    if (kind === 'still-failing' || drift.changes[kind].length === 0) continue;
    lines.push('', `${kind} (${drift.changes[kind].length}):`);
    for (const entry of drift.changes[kind]) {
      const finding = entry.current ?? entry.previous!;
      const was = entry.previous
        ? ` (was ${entry.previous.status} ${entry.previous.severity})`
        : '';
      lines.push(
        `  [${finding.severity}] ${sanitiseLine(finding.resource.name)} ${finding.ruleId}: ${sanitiseForTerminal(finding.message)}${was}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
