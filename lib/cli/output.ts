import { Option } from 'commander';
import { defaultConfig, type LoadedConfig, loadConfigFile } from '../config/config.js';
import { type EvaluationSummary, failsAt } from '../engine/evaluate.js';
import { type Finding, SEVERITIES, type Severity } from '../engine/types.js';
import { ConfigError } from '../errors.js';
import type { ScanEvidence } from '../evidence/types.js';
import { FORMATS, type Format, renderFindings } from '../export/render.js';
import type {
  ObjectFile,
  ReportStore,
  ScanSummaryFile,
  StoreIndex,
} from '../report-store/types.js';
import { judgeAndStore } from '../scan/run-scan.js';
import { TOOL_VERSION } from '../version.js';
import type { CliIo } from './io.js';
import { parseSeverity } from './options.js';
import { openStore } from './store.js';

/**
 * Exit codes: 0 done, 1 `--fail-on` threshold reached, 2 bad input, 3 AWS or store failure,
 * 4 interrupted with a checkpoint (`s3scan scan --resume` continues), 5 the report is stored
 * but an alert sink left something undelivered (`s3scan alert` resends what can be resent).
 * With `scan --alert`, 1 wins over 5: the gate a pipeline set is what it asked about.
 * 6 a stored scan is not what was written (a file changed, truncated or missing: `s3scan
 * verify` names them).
 */
export const EXIT = {
  ok: 0,
  failOn: 1,
  input: 2,
  runtime: 3,
  interrupted: 4,
  alerts: 5,
  tampered: 6,
} as const;

/** What each command is given: where to write, and how to set the exit code. */
export interface CommandContext {
  io: CliIo;
  setExit: (code: number) => void;
}

/** `--format`, with the command's default. */
export const formatOption = (defaultFormat: Format = 'table') =>
  new Option('--format <format>', 'output format').choices([...FORMATS]).default(defaultFormat);

/** `--fail-on SEVERITY`. */
export const failOnOption = () =>
  new Option(
    '--fail-on <severity>',
    `exit 1 when an unsuppressed FAIL is at least this severe (${SEVERITIES.join('|')})`,
  ).argParser(parseSeverity);

/** The config a command runs with: the file given, else the defaults. */
export async function loadConfig(path: string | undefined): Promise<LoadedConfig> {
  return path ? loadConfigFile(path) : defaultConfig();
}

/** How findings are printed. */
export interface OutputOptions {
  format: Format;
  failOn?: Severity;
  all?: boolean;
  /** ASFF: when each failing finding was first seen, by fingerprint. */
  firstSeen?: ReadonlyMap<string, string>;
}

/** Prints the findings in the asked format; the exit code `--fail-on` calls for. */
export function emit(
  io: CliIo,
  findings: Finding[],
  summary: EvaluationSummary,
  options: OutputOptions,
): number {
  io.stdout(
    renderFindings(options.format, findings, summary, {
      toolVersion: TOOL_VERSION,
      all: options.all ?? false,
      firstSeen: options.firstSeen,
    }),
  );
  return options.failOn && failsAt(findings, options.failOn) ? EXIT.failOn : EXIT.ok;
}

/** Where and how {@link storeAndEmit} stores a judged scan. */
export interface LocalStoreRequest {
  storeDir: string;
  source: ScanSummaryFile['source'];
  output: OutputOptions;
  /** Set when recorded evidence is judged again: a scan of its own, saying what it judged. */
  evaluatedFrom?: ScanSummaryFile['evaluatedFrom'];
  scanId?: string;
  objectFiles?: ObjectFile[];
}

/** Evaluate → store (a local folder) → print, for the commands that judge recorded evidence. */
export async function storeAndEmit(
  io: CliIo,
  evidence: ScanEvidence,
  config: LoadedConfig,
  request: LocalStoreRequest,
): Promise<{ code: number; findings: Finding[]; summary: ScanSummaryFile }> {
  const { store } = openStore(request.storeDir, {}, io.storeAdapters);
  const { findings, summary, report } = await judgeAndStore(evidence, config, {
    store,
    source: request.source,
    evaluatedFrom: request.evaluatedFrom,
    ...(request.scanId ? { scanId: request.scanId } : {}),
  });
  const code = printStored(io, { findings, summary, output: request.output, report, store });
  return { code, findings, summary };
}

/** Prints a stored scan and says where it went. */
export function printStored(
  io: CliIo,
  scan: {
    findings: Finding[];
    summary: ScanSummaryFile;
    output: OutputOptions;
    report: string | undefined;
    store: ReportStore;
  },
): number {
  const { findings, summary, output, report, store } = scan;
  const code = emit(io, findings, summary, output);
  io.stderr(`Report written to ${report} (index: ${store.describe()}/index.json)\n`);
  return code;
}

/**
 * The store's index and the position of a scan in it (`latest` allowed); a clear input error
 * when the store has no scans or not that one.
 */
export async function findStoredScan(
  store: ReportStore,
  scan: string,
): Promise<{ index: StoreIndex; scanId: string; position: number }> {
  const index = await store.readIndex();
  if (!index)
    throw new ConfigError(
      `no scans in ${store.describe()} (index.json not found); run s3scan scan or npm start first`,
    );
  const scanId = scan === 'latest' ? index.latest : scan;
  const position = index.scans.findIndex((s) => s.scanId === scanId);
  if (position < 0)
    throw new ConfigError(`scan ${scanId} is not in ${store.describe()}/index.json`);
  return { index, scanId, position };
}

/** Refuses `--alert` before any work when the config has no `alerts:` section to send to. */
export function assertCanAlert(
  options: { alert?: boolean; config?: string },
  config: LoadedConfig,
): void {
  if (options.alert && !config.alerts)
    throw new ConfigError(
      `--alert needs a config with an alerts: section (${options.config ? `${options.config} has none` : 'no --config given'})`,
    );
}
