import { type Command, Option } from 'commander';
import { callerIdentity, stsClient } from '../../collect/assume-role.js';
import { AwsClients, assertProfileExists, type ClientOptions } from '../../collect/clients.js';
import { memberAccess } from '../../collect/member-access.js';
import type { AccountProgress } from '../../collect/org-scan.js';
import { isScanCheckpoint } from '../../collect/scan.js';
import type { LoadedConfig } from '../../config/config.js';
import { ConfigError } from '../../errors.js';
import { sanitiseForTerminal } from '../../export/table.js';
import { fileCheckpoints } from '../../report-store/checkpoints.js';
import { newScanId } from '../../report-store/scan-id.js';
import type { ReportStore } from '../../report-store/types.js';
import { OBJECT_MODES, objectRequestOf } from '../../scan/object-modes.js';
import {
  type CompletedScan,
  type ObjectRequest,
  resumeScan,
  runOrganizationScan,
  runScan,
  type ScanOutcome,
  type ScanPlan,
  type ScanPorts,
} from '../../scan/run-scan.js';
import {
  clientOptionsOf,
  collect,
  parseEndpointUrl,
  parsePositiveInt,
  parseSampleSize,
} from '../options.js';
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
import { createProgress } from '../progress.js';
import { checkStoreLocation, storeOf, withStoreOptions } from '../store.js';
import { accountListOf, asksForAccounts } from './accounts.js';
import { runAlerts } from './alert.js';

/** The object part of a scan plan, from `--objects`, `--versions`, `--sample-size`, `--inventory-max-age`. */
function objectPlanOf(options: {
  objects: 'none' | ObjectRequest['mode'];
  versions?: boolean;
  sampleSize: number;
  inventoryMaxAge: number;
}): Pick<ScanPlan, 'objects'> {
  return objectRequestOf(options.objects, {
    versions: options.versions,
    sampleSize: options.sampleSize,
    maxInventoryAgeDays: options.inventoryMaxAge,
  });
}

/** The directory bucket options of a scan plan, from the command line. */
function directoryOptions(options: {
  directoryBuckets?: boolean;
  directoryBucketRegion?: string[];
}): Pick<ScanPlan, 'directoryBuckets' | 'directoryBucketRegions'> {
  return {
    ...(options.directoryBuckets === false ? { directoryBuckets: false } : {}),
    ...(options.directoryBucketRegion?.length
      ? { directoryBucketRegions: options.directoryBucketRegion }
      : {}),
  };
}

/** Exits a scan command with: the stored report's `--fail-on` code, or the alerts'. */
async function finishStored(
  context: CommandContext,
  outcome: CompletedScan,
  options: {
    alert?: boolean;
    store: string;
  } & Parameters<typeof printStored>[1]['output'],
  store: ReportStore,
  config: LoadedConfig,
  signal: AbortSignal,
  /** An organisation-wide scan's member role: members' findings reach their Security Hub. */
  members?: { roleName: string; externalId?: string },
): Promise<void> {
  const { io, setExit } = context;
  const code = printStored(io, {
    findings: outcome.findings,
    summary: outcome.summary,
    output: options,
    report: outcome.report,
    store,
  });
  // The report is published before any alert: a sink that fails never costs the report.
  const alerted = options.alert
    ? await runAlerts({ ...io, stdout: io.stderr }, store, outcome.summary.scanId, config, {
        dryRun: false,
        signal,
        members,
      })
    : EXIT.ok;
  setExit(code !== EXIT.ok ? code : alerted);
}

/**
 * `scan --org | --ou | --accounts`: the accounts listed, each scanned through its member role
 * (the caller's own account with its own credentials), one progress line per account, one
 * report. An interrupted organisation scan stores nothing and says how far it got.
 */
async function scanAccounts(
  // biome-ignore lint/suspicious/noExplicitAny: commander's parsed options
  options: any,
  config: LoadedConfig,
  clientOptions: ClientOptions,
  homeRegion: string,
  regions: string[],
  context: CommandContext,
): Promise<void> {
  const { io, setExit } = context;
  if (options.resume)
    throw new ConfigError(
      '--resume continues a one-account scan; an interrupted --org/--ou/--accounts scan stored nothing and is run again',
    );
  const accounts = await accountListOf(options, config.scan.maxAttempts);
  const sts = stsClient(homeRegion, config.scan.maxAttempts);
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const own = await callerIdentity(sts);
    const scanTime = new Date();
    const scanId = newScanId(scanTime);
    const members = memberAccess({
      sts,
      own,
      role: {
        roleName: options.roleName,
        ...(options.externalId ? { externalId: options.externalId } : {}),
      },
      scanId,
      region: homeRegion,
      clients: clientOptions,
    });
    const { store, staging } = storeOf(options, io);
    const width = String(accounts.accounts.length).length;
    const outcome = await runOrganizationScan(
      {
        scanId,
        scanTime,
        buckets: options.bucket ?? [],
        regions,
        config,
        ...directoryOptions(options),
        accounts,
        accountConcurrency: options.accountConcurrency,
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        ...objectPlanOf(options),
      },
      {
        ...members,
        store,
        staging,
        signal: controller.signal,
        ...(options.progress
          ? {
              onAccount: (p: AccountProgress) => {
                if (p.status === 'started') return;
                const what =
                  p.status === 'scanned'
                    ? `scanned, ${p.buckets} bucket${p.buckets === 1 ? '' : 's'}`
                    : `FAILED: ${sanitiseForTerminal(p.reason ?? '')}`;
                io.stderr(
                  `[${String(p.done).padStart(width)}/${p.total}] account ${p.accountId} ${what}\n`,
                );
              },
            }
          : {}),
      },
    );
    if (outcome.status === 'interrupted') {
      io.stderr(
        `s3scan: interrupted after ${outcome.accountsDone} of ${accounts.accounts.length} accounts; nothing was stored (a report missing accounts would pass for the whole organisation). Run the scan again.\n`,
      );
      setExit(EXIT.interrupted);
      return;
    }
    const records = outcome.evidence.accounts ?? [];
    const count = (status: string) => records.filter((a) => a.status === status).length;
    io.stderr(
      `Accounts: ${count('scanned')} scanned, ${count('failed')} failed, ${count('skipped')} skipped (not ACTIVE)\n`,
    );
    await finishStored(context, outcome, options, store, config, controller.signal, {
      roleName: options.roleName,
      ...(options.externalId ? { externalId: options.externalId } : {}),
    });
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    sts.destroy();
  }
}

/** `s3scan scan`: the scan use case on the caller's account, into a local report store. */
export function registerScanCommand(program: Command, { io, setExit }: CommandContext): void {
  withStoreOptions(
    program
      .command('scan')
      .description(
        'Scan every bucket of the AWS account, evaluate the rules and store the report.',
      ),
    DEFAULT_STORE,
  )
    .option('--profile <name>', 'AWS shared-config profile')
    .option(
      '--endpoint-url <url>',
      'send S3 requests to this endpoint (S3-compatible stores, VPC endpoints); KMS and STS keep theirs',
      parseEndpointUrl,
    )
    .option('--path-style', 'with --endpoint-url: address buckets as <endpoint>/<bucket>')
    .option(
      '--region <region>',
      'only buckets in this region (repeatable or comma-separated)',
      collect,
    )
    .option(
      '--bucket <name>',
      'only this bucket; globs allowed (repeatable or comma-separated)',
      collect,
    )
    .option(
      '--no-directory-buckets',
      'general purpose buckets only: do not call ListDirectoryBuckets (S3 Express One Zone)',
    )
    .option(
      '--directory-bucket-region <region>',
      'also list directory buckets in this region (repeatable or comma-separated; default: the regions holding buckets and the home region)',
      collect,
    )
    .option('--config <file>', 'config file (YAML or JSON)')
    .option(
      '--concurrency <n>',
      'maximum AWS calls in flight (default: config or 16)',
      parsePositiveInt,
    )
    .addOption(
      new Option(
        '--objects <mode>',
        'object-level scan: none; sample (deterministic, HEAD); full (every object, HEAD); inventory (S3 Inventory EncryptionStatus); auto (inventory when fresh, else sample)',
      )
        .choices([...OBJECT_MODES])
        .default('none'),
    )
    .option('--versions', 'with --objects: also classify noncurrent object versions')
    .option('--sample-size <n>', 'objects per bucket with --objects sample', parseSampleSize, 100)
    .option('--resume', 'continue the interrupted scan whose checkpoint is in the store')
    .option(
      '--inventory-max-age <days>',
      'with --objects inventory|auto: newest delivery may be this old',
      parsePositiveInt,
      8,
    )
    .option(
      '--alert',
      'after the report is stored, send its alerts to the sinks of the config (summary on stderr)',
    )
    .option(
      '--org',
      'every ACTIVE account of the AWS Organization, through the member role (management account or delegated administrator)',
    )
    .option('--ou <id>', 'the accounts under this OU or root, recursively (repeatable)', collect)
    .option('--accounts <ids|@file>', 'these accounts: comma-separated, or @file with one a line')
    .option('--role-name <name>', 'with --org/--ou/--accounts: the member role', 's3scan-read')
    .option('--external-id <id>', 'the ExternalId the member role requires')
    .option(
      '--account-concurrency <n>',
      'with --org/--ou/--accounts: accounts scanned at the same time (AWS calls stay bounded by --concurrency overall)',
      parsePositiveInt,
      16,
    )
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .option('--no-progress', 'do not show progress on stderr')
    .addOption(formatOption())
    .addOption(failOnOption())
    .action(async (options) => {
      const config = await loadConfig(options.config);
      // Refuse before scanning: an --alert that cannot alert, or a --store that cannot be a
      // store, should not cost a scan (or an organisation listing) first.
      assertCanAlert(options, config);
      checkStoreLocation(options.store);
      const regions: string[] = options.region ?? [];
      const homeRegion =
        regions[0] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      // The SDK reads a profile's endpoint_url and services section only from AWS_PROFILE,
      // never from the client's profile option: set both so every call sees one profile.
      if (options.profile) {
        await assertProfileExists(options.profile);
        process.env.AWS_PROFILE = options.profile;
      }
      const clientOptions = clientOptionsOf(config, options);
      if (asksForAccounts(options)) {
        await scanAccounts(options, config, clientOptions, homeRegion, regions, {
          io,
          setExit,
        });
        return;
      }
      await scanAccount(options, config, clientOptions, homeRegion, regions, { io, setExit });
    });
}

/**
 * A scan of the caller's own account: progress on stderr, a checkpoint on Ctrl-C or SIGTERM
 * that `--resume` continues, then the report.
 */
async function scanAccount(
  // biome-ignore lint/suspicious/noExplicitAny: commander's parsed options
  options: any,
  config: LoadedConfig,
  clientOptions: ClientOptions,
  homeRegion: string,
  regions: string[],
  context: CommandContext,
): Promise<void> {
  const { io, setExit } = context;
  const clients = new AwsClients(clientOptions, homeRegion);
  const progress = options.progress ? createProgress(io) : undefined;
  const { store, checkpointFile, staging } = storeOf(options, io);
  // Ctrl-C (or a scheduler's SIGTERM) stops the scan with a checkpoint.
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const ports: ScanPorts & Required<Pick<ScanPorts, 'checkpoints'>> = {
    clients,
    store,
    checkpoints: fileCheckpoints(checkpointFile, isScanCheckpoint),
    staging,
    signal: controller.signal,
    ...(progress ? { onProgress: progress.update } : {}),
  };
  try {
    let outcome: ScanOutcome;
    if (options.resume) {
      outcome = await resumeScan(
        { config, ...(options.concurrency ? { concurrency: options.concurrency } : {}) },
        ports,
      );
    } else {
      const scanTime = new Date();
      outcome = await runScan(
        {
          scanId: newScanId(scanTime),
          scanTime,
          buckets: options.bucket ?? [],
          regions,
          config,
          ...directoryOptions(options),
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          ...objectPlanOf(options),
        },
        ports,
      );
    }
    progress?.stop();
    if (outcome.status === 'checkpointed') {
      io.stderr(
        `s3scan: interrupted (${outcome.progress}); checkpoint written to ${outcome.checkpoint}. Continue with: s3scan scan --resume --store ${options.store}\n`,
      );
      setExit(EXIT.interrupted);
      return;
    }
    await finishStored({ io, setExit }, outcome, options, store, config, controller.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    progress?.stop();
    clients.destroy();
  }
}
