import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { awsSettings } from '../../aws/bucket-settings.js';
import { memberAccess } from '../../collect/member-access.js';
import { ConfigError } from '../../errors.js';
import {
  coalesce,
  type DroppedEvent,
  type RescanTargets,
  readEvents,
} from '../../events/cloudtrail.js';
import { sanitiseLine } from '../../export/table.js';
import { autoFix, autoFixNote, describeAutoFix, provingRescan } from '../../remediation/auto.js';
import { newScanId } from '../../report-store/scan-id.js';
import { runRescan } from '../../scan/rescan.js';
import { withAwsSession } from '../aws-session.js';
import type { CliIo } from '../io.js';
import { parseEndpointUrl } from '../options.js';
import {
  assertCanAlert,
  type CommandContext,
  EXIT,
  failOnOption,
  formatOption,
  loadConfig,
  printStored,
} from '../output.js';
import { DEFAULT_STORE } from '../paths.js';
import { storeOf, withStoreOptions } from '../store.js';
import { runAlerts } from './alert.js';

/** "3 unknown-operation, 1 failed-call" */
function countsOf(dropped: DroppedEvent[]): string {
  const counts = new Map<string, number>();
  for (const d of dropped) counts.set(d.reason, (counts.get(d.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} ${reason}`).join(', ');
}

/**
 * `s3scan rescan --event FILE`: what the rescan function does with a queue batch, on the
 * command line: read one CloudTrail record, an EventBridge envelope, an SQS batch or a
 * CloudTrail log file; coalesce the posture changes; re-read those buckets (and the buckets
 * of the latest full scan that use the keys named) live; store the scoped scan linked to that
 * full scan; with `--alert`, send the drift of those buckets only.
 */
export function registerRescanCommand(program: Command, { io, setExit }: CommandContext): void {
  withStoreOptions(
    program
      .command('rescan')
      .description(
        'Rescan the buckets CloudTrail events name (a record, an EventBridge envelope, an SQS batch or a log file), as the rescan function does.',
      ),
    DEFAULT_STORE,
  )
    .requiredOption('--event <file>', 'the event file (JSON)')
    .option('--profile <name>', 'AWS shared-config profile')
    .option('--endpoint-url <url>', 'send S3 requests to this endpoint', parseEndpointUrl)
    .option('--path-style', 'with --endpoint-url: address buckets as <endpoint>/<bucket>')
    .option(
      '--role-name <name>',
      'rescan member accounts’ buckets through this member role (events forwarded from an organisation)',
    )
    .option('--external-id <id>', 'the ExternalId the member role requires')
    .option('--config <file>', 'config file (YAML or JSON)')
    .option('--alert', 'send the rescan’s drift to the sinks of the config')
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .addOption(formatOption())
    .addOption(failOnOption())
    .action(async (options) => {
      const config = await loadConfig(options.config);
      assertCanAlert(options, config);
      const { targets, malformed } = readEventFile(io, await eventFileOf(options.event));
      await withAwsSession(options, config, async ({ clients, sts, own, region }) => {
        const { store, staging } = storeOf(options, io);
        const scanTime = new Date();
        const scanId = newScanId(scanTime);
        const members = options.roleName
          ? memberAccess({
              sts,
              own,
              role: {
                roleName: options.roleName,
                ...(options.externalId ? { externalId: options.externalId } : {}),
              },
              scanId,
              region,
              clients: { maxAttempts: config.scan.maxAttempts },
            })
          : undefined;
        const outcome = await runRescan(
          { targets, config, scanId, scanTime, accountId: own.accountId },
          { clients, store, staging, members },
        );
        reportTargets(io, outcome);
        const badInput = malformed > 0 ? EXIT.input : EXIT.ok;
        if (!outcome.scan) {
          io.stderr('Nothing to rescan.\n');
          setExit(badInput);
          return;
        }
        io.stderr(
          `Rescanned ${outcome.buckets.length} bucket${outcome.buckets.length === 1 ? '' : 's'} (${outcome.buckets.map(sanitiseLine).join(', ')}), updating full scan ${outcome.rescanOf?.scanId}\n`,
        );
        const code = printStored(io, {
          findings: outcome.scan.findings,
          summary: outcome.scan.summary,
          output: options,
          report: outcome.scan.report,
          store,
        });
        const alert = (scanId: string, note?: string) =>
          runAlerts({ ...io, stdout: io.stderr }, store, scanId, config, {
            dryRun: false,
            ...(note ? { note } : {}),
          });
        let alerted: number = EXIT.ok;
        // The config's automatic fixes, with the caller's credentials, as the function does with
        // its remediation role: a dry run planned before the rescan's alert (which says what it
        // would fix), a real fix after it (its proving rescan alerts the fix).
        const fix = () =>
          config.remediation
            ? autoFix(
                { rescan: outcome.scan!, settings: config.remediation.autoFix, now: new Date() },
                {
                  store,
                  settings: awsSettings(clients),
                  by: own.arn,
                  account: own.accountId,
                  prove: provingRescan({
                    clients,
                    store,
                    staging,
                    config,
                    accountId: own.accountId,
                    now: () => new Date(),
                    ...(options.alert
                      ? {
                          after: async (scanId: string) => {
                            alerted = Math.max(alerted, await alert(scanId));
                          },
                        }
                      : {}),
                  }),
                },
              )
            : Promise.resolve(undefined);
        const dryRun = config.remediation?.autoFix.dryRun === true;
        const planned = dryRun ? await fix() : undefined;
        if (options.alert) alerted = await alert(outcome.scan.scanId, autoFixNote(planned));
        const auto = dryRun ? planned : await fix();
        if (auto) io.stderr(describeAutoFix(auto));
        setExit(badInput !== EXIT.ok ? badInput : code !== EXIT.ok ? code : alerted);
      });
    });
}

/** The event file `--event` names, parsed: a ConfigError saying what is wrong otherwise. */
async function eventFileOf(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new ConfigError(`--event ${path}: ${error.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--event ${path} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * The posture changes of the events, one target per bucket and key, said on stderr with what
 * was dropped and what was malformed (how many).
 */
function readEventFile(io: CliIo, input: unknown): { targets: RescanTargets; malformed: number } {
  const messages = readEvents(input);
  const malformed = messages.filter((m) => m.malformed);
  const dropped = messages.flatMap((m) => m.dropped);
  const changes = messages.flatMap((m) => m.changes);
  io.stderr(
    `Events: ${changes.length} posture change${changes.length === 1 ? '' : 's'}${dropped.length ? `, ${dropped.length} dropped (${countsOf(dropped)})` : ''}${malformed.length ? `, ${malformed.length} malformed` : ''}\n`,
  );
  for (const m of malformed)
    io.stderr(
      `  malformed${m.messageId ? ` message ${sanitiseLine(m.messageId)}` : ''}: ${sanitiseLine(m.malformed ?? '')}\n`,
    );
  return { targets: coalesce(changes), malformed: malformed.length };
}

/** The targets a rescan skipped, and the buckets each named key led to, on stderr. */
function reportTargets(
  io: CliIo,
  outcome: Pick<Awaited<ReturnType<typeof runRescan>>, 'skipped' | 'keys'>,
): void {
  for (const s of outcome.skipped)
    io.stderr(`  skipped ${sanitiseLine(s.target)}: ${sanitiseLine(s.reason)}\n`);
  for (const k of outcome.keys)
    io.stderr(
      `  key ${sanitiseLine(k.keyArn)}: ${k.buckets.length ? k.buckets.map(sanitiseLine).join(', ') : 'no bucket of the latest full scan uses it'}\n`,
    );
}
