import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AwsClients, assertProfileExists } from '../collect/clients.js';
import {
  type CollectResult,
  collectEvidence,
  describeCheckpoint,
  resumeCollection,
  type ScanCheckpoint,
} from '../collect/scan.js';
import { defaultConfig, type LoadedConfig, loadConfigFile } from '../config/config.js';
import { type EvaluationSummary, failsAt } from '../engine/evaluate.js';
import { type Finding, SEVERITIES, type Severity } from '../engine/types.js';
import {
  CollectError,
  ConfigError,
  CredentialsError,
  EvidenceError,
  PolicyParseError,
  ReportStoreError,
} from '../errors.js';
import type { ScanEvidence } from '../evidence/types.js';
import { FORMATS, type Format, renderFindings } from '../export/render.js';
import { analyzePolicy } from '../policy/analyze.js';
import { fixPolicy } from '../policy/fix.js';
import { loadEvidence } from '../report-store/evidence-files.js';
import { LocalReportStore } from '../report-store/local.js';
import { chunkedObjectSink, objectFilesFromChunks } from '../report-store/object-chunks.js';
import type { ObjectSink } from '../report-store/object-sink.js';
import { newScanId } from '../report-store/scan-id.js';
import type { ObjectFile, ScanSummaryFile } from '../report-store/types.js';
import { evaluateScan } from '../scan/evaluate-scan.js';
import { TOOL_VERSION } from '../version.js';
import { explainAnalysis } from './explain.js';
import { type CliIo, processIo } from './io.js';
import { createProgress } from './progress.js';

/**
 * Exit codes: 0 done, 1 `--fail-on` threshold reached, 2 bad input, 3 AWS or store failure,
 * 4 interrupted with a checkpoint (`s3scan scan --resume` continues).
 */
export type { CliIo };

export const EXIT = { ok: 0, failOn: 1, input: 2, runtime: 3, interrupted: 4 } as const;

const VERSION = TOOL_VERSION;
const DEMO_EVIDENCE = fileURLToPath(new URL('../../demo/demo-account.json', import.meta.url));
const DEMO_CONFIG = fileURLToPath(new URL('../../demo/s3scan.config.yml', import.meta.url));
const DEFAULT_STORE = 's3scan-reports';

function parseSeverity(value: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${SEVERITIES.join(', ')}`);
  }
  return value as Severity;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('must be an integer from 1 to 256');
  return n;
}

/** An S3 endpoint URL: http(s), host, optional port and path, nothing else. */
function parseEndpointUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL such as https://s3.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidArgumentError(`must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash)
    throw new InvalidArgumentError('must not carry credentials, a query or a fragment');
  return value;
}

function parseSampleSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new InvalidArgumentError('must be an integer from 1 to 100000');
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter(Boolean)];
}

const formatOption = (defaultFormat: Format = 'table') =>
  new Option('--format <format>', 'output format').choices([...FORMATS]).default(defaultFormat);
const failOnOption = () =>
  new Option(
    '--fail-on <severity>',
    `exit 1 when an unsuppressed FAIL is at least this severe (${SEVERITIES.join('|')})`,
  ).argParser(parseSeverity);

async function loadConfig(path: string | undefined): Promise<LoadedConfig> {
  return path ? loadConfigFile(path) : defaultConfig();
}

function summaryFile(
  summary: EvaluationSummary,
  source: ScanSummaryFile['source'],
  extra: Pick<ScanSummaryFile, 'timings' | 'collection'> = {},
): ScanSummaryFile {
  return { schemaVersion: '1', source, ...summary, ...extra };
}

interface OutputOptions {
  format: Format;
  failOn?: Severity;
  all?: boolean;
}

function emit(
  io: CliIo,
  findings: Finding[],
  summary: EvaluationSummary,
  options: OutputOptions,
): number {
  io.stdout(
    renderFindings(options.format, findings, summary, {
      toolVersion: VERSION,
      all: options.all ?? false,
    }),
  );
  return options.failOn && failsAt(summary, options.failOn) ? EXIT.failOn : EXIT.ok;
}

/** Where and how `storeAndEmit` stores a scan. */
interface StoreRequest {
  storeDir: string;
  source: ScanSummaryFile['source'];
  output: OutputOptions;
  extra?: Pick<ScanSummaryFile, 'timings' | 'collection'>;
  /** Set when recorded evidence is judged again: that is a new scan, saying what it judged. */
  evaluatedFrom?: ScanSummaryFile['evaluatedFrom'];
  objectFiles?: ObjectFile[];
}

async function storeAndEmit(
  io: CliIo,
  evidence: ScanEvidence,
  config: LoadedConfig,
  request: StoreRequest,
): Promise<number> {
  const started = performance.now();
  const { findings, summary } = evaluateScan(evidence, config.evaluation);
  const evaluateMs = Math.round(performance.now() - started);
  const store = new LocalReportStore(request.storeDir);
  const extra = request.extra ?? {};
  const stored = summaryFile(summary, request.source, {
    ...extra,
    timings: { ...extra.timings, evaluateMs },
  });
  // Stored scans are immutable: a re-evaluation gets a scan id of its own.
  const published = request.evaluatedFrom
    ? { ...stored, scanId: newScanId(new Date()), evaluatedFrom: request.evaluatedFrom }
    : stored;
  const location = await store.writeScan({
    summary: published,
    findings,
    evidence,
    ...(request.objectFiles?.length ? { objectFiles: request.objectFiles } : {}),
  });
  const code = emit(io, findings, published, request.output);
  io.stderr(`Report written to ${location} (index: ${store.describe()}/index.json)\n`);
  return code;
}

async function writeCheckpoint(path: string, checkpoint: ScanCheckpoint): Promise<void> {
  // The store may not exist yet: a scan interrupted before its first report.
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(checkpoint)}\n`);
  await rename(temp, path);
}

async function readCheckpoint(path: string): Promise<ScanCheckpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError(`no interrupted scan to resume: ${path} does not exist`);
  }
  try {
    const checkpoint = JSON.parse(text) as ScanCheckpoint;
    if (checkpoint.schemaVersion !== '1' || !checkpoint.evidence || !checkpoint.sweeps)
      throw new Error('not an s3scan checkpoint');
    return checkpoint;
  } catch (error) {
    throw new ConfigError(`${path} is not a usable checkpoint: ${(error as Error).message}`);
  }
}

/** Builds the `s3scan` command. Each action resolves to an exit code. */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('s3scan')
    .description('Compliance scanner for Amazon S3 encryption at rest and in transit.')
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('scan')
    .description('Scan every bucket of the AWS account, evaluate the rules and store the report.')
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
    .option('--store <dir>', 'report store folder', DEFAULT_STORE)
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
        .choices(['none', 'sample', 'full', 'inventory', 'auto'])
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
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .option('--no-progress', 'do not show progress on stderr')
    .addOption(formatOption())
    .addOption(failOnOption())
    .action(async (options) => {
      const config = await loadConfig(options.config);
      const regions: string[] = options.region ?? [];
      const homeRegion =
        regions[0] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      // The SDK reads a profile's endpoint_url and services section only from AWS_PROFILE,
      // never from the client's profile option: set both so every call sees one profile.
      if (options.profile) {
        await assertProfileExists(options.profile);
        process.env.AWS_PROFILE = options.profile;
      }
      const clients = new AwsClients(
        {
          maxAttempts: config.scan.maxAttempts,
          retryMode: config.scan.retryMode,
          connectTimeoutMs: config.scan.connectTimeoutMs,
          requestTimeoutMs: config.scan.requestTimeoutMs,
          ...(options.profile ? { profile: options.profile } : {}),
          ...(options.endpointUrl ? { s3Endpoint: options.endpointUrl } : {}),
          ...(options.pathStyle ? { forcePathStyle: true } : {}),
        },
        homeRegion,
      );
      const progress = options.progress ? createProgress(io) : undefined;
      const started = performance.now();
      const store = new LocalReportStore(options.store);
      const checkpointPath = join(store.root, 'checkpoint.json');
      // Ctrl-C (or a scheduler's SIGTERM) stops the sweep at a page boundary with a checkpoint.
      const controller = new AbortController();
      const interrupt = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      // Each run of a sweep writes one chunk, named after the page it started from: a run a
      // crash cut short is replaced by the next resume, never appended to.
      const sinkFor =
        (scanId: string, startPage: (bucket: string) => number = () => 0) =>
        (bucket: { accountId: string; name: string }): ObjectSink =>
          chunkedObjectSink(store.stagingArea(scanId), bucket, startPage(bucket.name));
      try {
        let result: CollectResult;
        if (options.resume) {
          const checkpoint = await readCheckpoint(checkpointPath);
          result = await resumeCollection(checkpoint, {
            clients,
            concurrency: options.concurrency ?? config.scan.concurrency,
            signal: controller.signal,
            sinkFor: sinkFor(checkpoint.evidence.scanId, (bucket) => {
              const state = checkpoint.sweeps[bucket];
              return state && state !== 'pending' ? state.pagesDone : 0;
            }),
          });
        } else {
          const scanTime = new Date();
          const scanId = newScanId(scanTime);
          result = await collectEvidence({
            clients,
            concurrency: options.concurrency ?? config.scan.concurrency,
            scanId,
            ...(options.objects !== 'none'
              ? {
                  objects: {
                    mode: options.objects,
                    versions: options.versions === true,
                    sampleSize: options.sampleSize,
                    prefixConcurrency: config.scan.prefixConcurrency,
                    headTransport: config.scan.headTransport,
                    maxInventoryAgeDays: options.inventoryMaxAge,
                    sinkFor: sinkFor(scanId),
                  },
                }
              : {}),
            scanTime,
            toolVersion: VERSION,
            buckets: options.bucket ?? [],
            regions,
            signal: controller.signal,
            ...(progress ? { onProgress: progress.update } : {}),
          });
        }
        progress?.stop();
        if (result.checkpoint) {
          await writeCheckpoint(checkpointPath, result.checkpoint);
          io.stderr(
            `s3scan: interrupted (${describeCheckpoint(result.checkpoint)}); checkpoint written to ${checkpointPath}. Continue with: s3scan scan --resume --store ${options.store}\n`,
          );
          setExit(EXIT.interrupted);
          return;
        }
        const objectFiles = await objectFilesFromChunks(
          store.stagingArea(result.evidence.scanId),
          result.evidence.buckets,
        );
        setExit(
          await storeAndEmit(io, result.evidence, config, {
            storeDir: options.store,
            source: 'scan',
            output: options,
            extra: {
              timings: { collectMs: Math.round(performance.now() - started) },
              collection: result.stats,
            },
            objectFiles,
          }),
        );
        await rm(checkpointPath, { force: true });
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        progress?.stop();
        clients.destroy();
      }
    });

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
        setExit(
          await storeAndEmit(io, evidence, config, {
            storeDir: options.store,
            source: 'evaluate',
            output: options,
            evaluatedFrom: {
              scanId: evidence.scanId,
              scanTime: evidence.scanTime,
              evidence: resolve(options.evidence),
            },
          }),
        );
        return;
      }
      const { findings, summary } = evaluateScan(evidence, config.evaluation);
      setExit(emit(io, findings, summary, options));
    });

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

  program
    .command('policy')
    .description(
      'Analyse one bucket policy: the five verdicts and what is left open. Reads FILE or stdin.',
    )
    .argument('[file]', 'policy JSON file, or - for stdin')
    .requiredOption('--bucket <name>', 'the bucket the policy is attached to')
    .option('--account <id>', 'the bucket owner account (decides who is "same account")')
    .option('--partition <partition>', 'aws, aws-cn or aws-us-gov (default: from the policy)')
    .option('--fix-tls', 'print the policy with a statement added that denies requests without TLS')
    .option('--fix-sse-c', 'print the policy with a statement added that denies SSE-C uploads')
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'text']).default('json'),
    )
    .action(async (file: string | undefined, options) => {
      if ((!file || file === '-') && io.stdinIsTty) {
        io.stderr(
          's3scan policy: reading the policy from standard input; paste it and end with Ctrl-D, or pass a FILE.\n',
        );
      }
      const text =
        !file || file === '-'
          ? await io.stdin()
          : await readFile(file, 'utf8').catch((error: Error) => {
              throw new ConfigError(`cannot read ${file}: ${error.message}`);
            });
      const analyzeOptions = {
        bucket: options.bucket as string,
        ...(options.account ? { accountId: options.account as string } : {}),
        ...(options.partition ? { partition: options.partition as string } : {}),
      };
      if (options.fixTls || options.fixSseC) {
        const fixed = fixPolicy(text, {
          ...analyzeOptions,
          tls: options.fixTls,
          sseC: options.fixSseC,
        });
        io.stdout(`${JSON.stringify(fixed.policy, null, 2)}\n`);
        io.stderr(
          fixed.added.length > 0
            ? `Added ${fixed.added.join(', ')}; re-analysed: tlsEnforced=${fixed.analysis.tlsEnforced}, sseCBlocked=${fixed.analysis.sseCBlocked}\n`
            : 'Nothing to add: the policy already enforces what was asked.\n',
        );
        return;
      }
      const analysis = analyzePolicy(text, analyzeOptions);
      io.stdout(
        options.format === 'json'
          ? `${JSON.stringify(analysis, null, 2)}\n`
          : explainAnalysis(analysis, options.bucket),
      );
    });

  program
    .command('demo')
    .description(
      'Evaluate the bundled demo account into a local report store and print the summary.',
    )
    .option('--store <dir>', 'report store folder', DEFAULT_STORE)
    .option('--config <file>', 'config file (YAML or JSON)', DEMO_CONFIG)
    .option(
      '--no-serve',
      'do not serve the dashboard afterwards (it does not exist yet, so nothing is served)',
    )
    .option('--all', 'show PASS and SKIPPED findings in the table too')
    .addOption(formatOption('summary'))
    .addOption(failOnOption())
    .action(async (options) => {
      const config = await loadConfig(options.config);
      const evidence = await loadEvidence(DEMO_EVIDENCE);
      setExit(
        await storeAndEmit(io, evidence, config, {
          storeDir: options.store,
          source: 'demo',
          output: options,
          evaluatedFrom: {
            scanId: evidence.scanId,
            scanTime: evidence.scanTime,
            evidence: 'demo/demo-account.json (bundled)',
          },
        }),
      );
    });

  return program;
}

function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof EvidenceError) return EXIT.input;
  if (error instanceof PolicyParseError || error instanceof CredentialsError) return EXIT.input;
  if (error instanceof CollectError || error instanceof ReportStoreError) return EXIT.runtime;
  return EXIT.runtime;
}

/** Runs the CLI with arguments (without `node` and the script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    const commanderCode = (error as { code?: string }).code;
    if (commanderCode?.startsWith('commander.')) {
      // Help and version exit 0; usage errors (already printed by commander) exit 2.
      return commanderCode === 'commander.helpDisplayed' ||
        commanderCode === 'commander.version' ||
        commanderCode === 'commander.help'
        ? EXIT.ok
        : EXIT.input;
    }
    if (error instanceof CredentialsError) {
      io.stderr(
        `s3scan: ${error.message}. Configure credentials (aws configure, AWS_PROFILE or --profile), or run \`npm start\` for the bundled demo account.\n`,
      );
      return EXIT.input;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`s3scan: ${message}\n`);
    return exitCodeFor(error);
  }
}
