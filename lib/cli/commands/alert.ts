import { type Command, Option } from 'commander';
import type { AlertReport } from '../../alerts/dispatch.js';
import { alertScan } from '../../alerts/run-alerts.js';
import { sinksFromSettings } from '../../alerts/sinks.js';
import { MemberRoles, partitionOfRegion, stsClient } from '../../collect/assume-role.js';
import type { LoadedConfig } from '../../config/config.js';
import { ConfigError } from '../../errors.js';
import { sanitiseForTerminal } from '../../export/table.js';
import { describeDrift } from '../../history/drift.js';
import type { ReportStore } from '../../report-store/types.js';
import type { CliIo } from '../io.js';
import { type CommandContext, EXIT, findStoredScan, loadConfig } from '../output.js';
import { DEFAULT_STORE } from '../paths.js';
import { storeOf, withStoreOptions } from '../store.js';

/**
 * Sends (or with `dryRun` previews) the alerts of one stored scan and prints what happened.
 * Returns {@link EXIT.alerts} when a sink left something undelivered, else 0.
 */
export async function runAlerts(
  io: CliIo,
  store: ReportStore,
  scanId: string,
  config: LoadedConfig,
  options: {
    dryRun: boolean;
    format?: 'table' | 'json';
    signal?: AbortSignal;
    /** Added to the digest's cause (an automatic fix a rescan planned). */
    note?: string;
    /** Sinks (or `*`) whose in-doubt entries are sent again. */
    resendInDoubt?: ReadonlySet<string>;
    /**
     * The member role of an organisation-wide scan: each member's findings go to its own
     * Security Hub through it. Without it they are reported as not sent, with why.
     */
    members?: { roleName: string; externalId?: string };
  },
): Promise<number> {
  if (!config.alerts)
    throw new ConfigError(
      `${config.provenance.location ?? 'the config'} has no alerts: section; name at least one sink (slack, sns, eventBridge, securityHub)`,
    );
  const settings = config.alerts;
  if (!settings.slack && !settings.sns && !settings.eventBridge && !settings.securityHub)
    throw new ConfigError('alerts: names no sink (slack, sns, eventBridge or securityHub)');
  const summary = await store.readSummary(scanId);
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const members = options.members
    ? new MemberRoles(stsClient(region), {
        partition: partitionOfRegion(region),
        roleName: options.members.roleName,
        ...(options.members.externalId ? { externalId: options.members.externalId } : {}),
        scanId: `${scanId}-alerts`,
      })
    : undefined;
  const run = await alertScan(
    store,
    scanId,
    settings,
    (s) =>
      sinksFromSettings(s, {
        env: process.env,
        region,
        // The CLI sends with the credentials that scanned: the scan's own account.
        callerAccount: summary.accountId,
        dryRun: options.dryRun,
        ...(members ? { memberCredentials: (account: string) => members.provider(account) } : {}),
      }),
    {
      dryRun: options.dryRun,
      signal: options.signal,
      resendInDoubt: options.resendInDoubt,
      ...(options.note ? { note: options.note } : {}),
    },
  );
  if (options.format === 'json') {
    io.stdout(`${JSON.stringify({ drift: run.drift.counts, ...run.report }, null, 2)}\n`);
  } else {
    io.stdout(
      alertTable(
        run.report,
        run.digest.baseline ? 'baseline (first scan of this scope)' : describeDrift(run.drift),
        options.dryRun,
      ),
    );
  }
  return run.report.ok ? EXIT.ok : EXIT.alerts;
}

/** One line: what each sink was sent for a scan, as the ledger's outcome records it. */
export function alertOutcomeLine(outcome: AlertReport): string {
  const sinks = outcome.sinks.map((s) => {
    const delivered = s.sent + s.alreadySent;
    const left = s.failed.length > 0 ? `, ${s.failed.length} not delivered` : '';
    return `${s.sink} ${s.status} (${delivered} delivered${left})${s.error ? `: ${sanitiseForTerminal(s.error)}` : ''}`;
  });
  return `Alerts (${outcome.at}): ${sinks.join('; ') || 'no sink'}`;
}

/** One line per sink, then the preview (dry run) or the failures. */
export function alertTable(report: AlertReport, drift: string, dryRun: boolean): string {
  const lines = [
    `Alerts for ${report.scanId}: ${drift}${dryRun ? ' (dry run: nothing sent)' : ''}`,
  ];
  for (const sink of report.sinks) {
    const counts = dryRun
      ? `${sink.preview?.length ?? 0} to send, ${sink.alreadySent} already sent`
      : `${sink.sent} sent, ${sink.alreadySent} already sent, ${sink.failed.length} not delivered`;
    lines.push(
      `  ${sink.sink}: ${sink.status} (${counts})${sink.error ? `: ${sanitiseForTerminal(sink.error)}` : ''}`,
    );
    for (const line of sink.preview ?? []) lines.push(`    ${sanitiseForTerminal(line)}`);
    for (const failure of sink.failed.slice(0, 20))
      lines.push(`    ${failure.kind} ${failure.id}: ${sanitiseForTerminal(failure.reason)}`);
    if (sink.failed.length > 20) lines.push(`    … ${sink.failed.length - 20} more`);
    if (!dryRun && sink.failed.some((f) => f.kind === 'in-doubt'))
      lines.push(
        `    In doubt: sent, answer never recorded. To send again (it may arrive twice): s3scan alert --resend-in-doubt ${sink.sink}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** `s3scan alert`: the alerts of a stored scan, exactly once per sink and entry. */
export function registerAlertCommand(program: Command, { io, setExit }: CommandContext): void {
  withStoreOptions(
    program
      .command('alert')
      .description(
        'Send the alerts of a stored scan (drift since the previous scan of its scope) to the sinks in the config; a second run sends nothing twice.',
      ),
    DEFAULT_STORE,
  )
    .option('--scan <id>', 'the scan, or "latest"', 'latest')
    .option('--config <file>', 'config file with an alerts: section')
    .option('--dry-run', 'print what would be sent, send nothing, record nothing')
    .option(
      '--role-name <name>',
      "an organisation-wide scan's member role: each member's findings go to its own Security Hub through it",
    )
    .option('--external-id <id>', 'with --role-name: the ExternalId the member role requires')
    .option(
      '--resend-in-doubt <sinks>',
      'send again what a run sent without recording the answer, for these sinks (comma-separated, or "all"): it may arrive twice',
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (options) => {
      const { store } = storeOf(options, io);
      const { scanId } = await findStoredScan(store, options.scan);
      const config = await loadConfig(options.config);
      setExit(
        await runAlerts(io, store, scanId, config, {
          dryRun: options.dryRun === true,
          format: options.format,
          ...(options.resendInDoubt
            ? { resendInDoubt: resendSet(String(options.resendInDoubt), config) }
            : {}),
          ...(options.roleName
            ? {
                members: {
                  roleName: String(options.roleName),
                  ...(options.externalId ? { externalId: String(options.externalId) } : {}),
                },
              }
            : {}),
        }),
      );
    });
}

const SINK_NAMES = ['slack', 'sns', 'eventbridge', 'securityhub'] as const;

/** `--resend-in-doubt`: sink names (as the table prints them) or `all`; unknown ones refused. */
function resendSet(value: string, config: LoadedConfig): ReadonlySet<string> {
  const names = value
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes('all')) return new Set(['*']);
  const unknown = names.filter((n) => !(SINK_NAMES as readonly string[]).includes(n));
  if (unknown.length || names.length === 0)
    throw new ConfigError(
      `--resend-in-doubt ${JSON.stringify(value)}: name sinks among ${SINK_NAMES.join(', ')}, or all`,
    );
  const configured = new Set(
    [
      config.alerts?.slack ? 'slack' : '',
      config.alerts?.sns ? 'sns' : '',
      config.alerts?.eventBridge ? 'eventbridge' : '',
      config.alerts?.securityHub ? 'securityhub' : '',
    ].filter(Boolean),
  );
  const absent = names.filter((n) => !configured.has(n));
  if (absent.length)
    throw new ConfigError(
      `--resend-in-doubt: ${absent.join(', ')} is not a sink of this config's alerts: section`,
    );
  return new Set(names);
}
