import { setMaxListeners } from 'node:events';
import type { MemberRoles } from '../collect/assume-role.js';
import type { AwsClients } from '../collect/clients.js';
import { collectOrganization, type OrganizationCollectOptions } from '../collect/org-scan.js';
import type { AccountList } from '../collect/organization.js';
import { collectPolicyLayers } from '../collect/policy-layers.js';
import {
  type CollectOptions,
  type CollectProgress,
  type CollectResult,
  collectEvidence,
  describeCheckpoint,
  type ObjectScanOptions,
  resumeCollection,
  type ScanCheckpoint,
} from '../collect/scan.js';
import type { LoadedConfig } from '../config/config.js';
import type { Finding } from '../engine/types.js';
import { CollectError, NoCheckpointError, ScanFilesTaken } from '../errors.js';
import type { ObjectScanEvidence, ScanEvidence } from '../evidence/types.js';
import type { ChangeColumn } from '../findings-index/format.js';
import { ruleDocuments } from '../findings-index/rule-documents.js';
import { changesSincePrevious } from '../history/changes.js';
import { storedPosture } from '../history/posture-overview.js';
import type { CheckpointStore } from '../report-store/checkpoints.js';
import { chunkedObjectSink, objectFilesFromChunks } from '../report-store/object-chunks.js';
import { newScanId } from '../report-store/scan-id.js';
import type {
  ObjectFile,
  ReportStore,
  ScanRecord,
  ScanSummaryFile,
} from '../report-store/types.js';
import type { WorkArea } from '../report-store/work-area.js';
import { RULE_CATALOGUE } from '../rules/index.js';
import { TOOL_VERSION } from '../version.js';
import { evaluateScan } from './evaluate-scan.js';

/** The object-level part of a scan, as a user asks for it. */
export interface ObjectRequest {
  mode: ObjectScanOptions['mode'];
  versions: boolean;
  sampleSize: number;
  /** With `inventory` or `auto`: the newest delivery may be this old (default 8 days). */
  maxInventoryAgeDays?: number;
}

/** What to scan: one account (the caller's), filtered by bucket and region. */
export interface ScanPlan {
  scanId: string;
  scanTime: Date;
  /** Bucket names or globs; every bucket when empty. */
  buckets: string[];
  /** Regions to keep; every region when empty. */
  regions: string[];
  /** False: general purpose buckets only (no ListDirectoryBuckets). */
  directoryBuckets?: boolean;
  /** Regions to list directory buckets in besides those holding general purpose buckets. */
  directoryBucketRegions?: string[];
  /** Object-level scanning; bucket level only when absent. */
  objects?: ObjectRequest;
  /** The loaded, validated config: the scan settings and how findings are judged. */
  config: LoadedConfig;
  /** AWS calls in flight; the config's `scan.concurrency` when absent. */
  concurrency?: number;
  /**
   * A rescan of the buckets events named: stored as `source: 'rescan'`, linked to the full
   * scan it updates (never the index's latest), and a named bucket that is gone is not an error.
   */
  rescan?: {
    of: { scanId: string; scanTime: string };
    events: string[];
    /**
     * The object evidence of the full scan, by `account/region/bucket`: a rescan reads no
     * objects, so each rescanned bucket keeps what that scan saw (marked `carriedFrom`).
     */
    objects?: Record<string, ObjectScanEvidence>;
  };
}

/** What a scan runs against: each host builds these and hands them over. */
export interface ScanPorts {
  clients: AwsClients;
  /** Where the report goes; without a store the scan is judged and answered, not stored. */
  store?: ReportStore;
  /** Where an interrupted scan keeps its checkpoint (required to resume). */
  checkpoints?: CheckpointStore<ScanCheckpoint>;
  /** Scratch space of a scan: the per-object CSV chunks, before the report takes them. */
  staging?: (scanId: string) => WorkArea;
  onProgress?: (progress: CollectProgress) => void;
  /** Aborting stops the scan at a checkpoint (Ctrl-C, the Lambda timeout). */
  signal?: AbortSignal;
}

/** A scan that finished: its findings, and where the report went when there is a store. */
export interface CompletedScan {
  status: 'completed';
  scanId: string;
  evidence: ScanEvidence;
  findings: Finding[];
  summary: ScanSummaryFile;
  /** Where the report was written. */
  report?: string;
  stats: CollectResult['stats'];
}

/** A scan that stopped with a checkpoint: how far it got, and where to continue from. */
export interface CheckpointedScan {
  status: 'checkpointed';
  scanId: string;
  /** One line on what is done and what is left. */
  progress: string;
  /** Where the checkpoint is kept. */
  checkpoint: string;
}

export type ScanOutcome = CompletedScan | CheckpointedScan;

/**
 * The scan pipeline every host runs (the CLI, the single Lambda; the Step Functions steps run
 * its parts): collect the evidence, judge it with the config, store the report. An abort
 * stops collection at a checkpoint, and {@link resumeScan} continues it.
 */
export async function runScan(plan: ScanPlan, ports: ScanPorts): Promise<ScanOutcome> {
  allowListenersFor(ports.signal, plan.concurrency ?? plan.config.scan.concurrency);
  const started = performance.now();
  const result = await collectEvidence({
    clients: ports.clients,
    ...collectOptionsOf(plan, ports),
    ...(ports.onProgress ? { onProgress: ports.onProgress } : {}),
  });
  return settle(
    result,
    plan.config,
    ports,
    started,
    { buckets: plan.buckets, regions: plan.regions },
    plan.rescan,
  );
}

/**
 * Continues the interrupted scan whose checkpoint `ports.checkpoints` holds; the outcome is
 * what the scan would have given had it never stopped.
 */
export async function resumeScan(
  request: { config: LoadedConfig; concurrency?: number },
  ports: ScanPorts & { checkpoints: CheckpointStore<ScanCheckpoint> },
): Promise<ScanOutcome> {
  allowListenersFor(ports.signal, request.concurrency ?? request.config.scan.concurrency);
  const started = performance.now();
  const checkpoint = await ports.checkpoints.load();
  if (!checkpoint)
    throw new NoCheckpointError(
      `no interrupted scan to resume: ${ports.checkpoints.describe()} does not exist`,
    );
  const scanId = checkpoint.evidence.scanId;
  const result = await resumeCollection(checkpoint, {
    clients: ports.clients,
    concurrency: request.concurrency ?? request.config.scan.concurrency,
    ...(ports.signal ? { signal: ports.signal } : {}),
    ...(ports.onProgress ? { onProgress: ports.onProgress } : {}),
    ...sinksFor(ports, scanId, (bucket) => {
      const state = checkpoint.sweeps[bucket];
      return state && state !== 'pending' ? state.pagesDone : 0;
    }),
  });
  return settle(
    result,
    request.config,
    ports,
    started,
    checkpoint.listing
      ? { buckets: checkpoint.listing.buckets, regions: checkpoint.listing.regions }
      : checkpoint.scope,
  );
}

/** An organisation-wide scan: the accounts, how to reach them, and the one-account plan. */
export interface OrganizationScanPlan extends ScanPlan {
  accounts: AccountList;
  /** Accounts collected at the same time (AWS calls stay bounded by `concurrency` overall). */
  accountConcurrency: number;
}

/** What an organisation-wide scan runs against, besides the store. */
export interface OrganizationScanPorts extends Omit<ScanPorts, 'clients' | 'checkpoints'> {
  own: OrganizationCollectOptions['own'];
  roles: MemberRoles;
  clientsFor: OrganizationCollectOptions['clientsFor'];
  region: string;
  onAccount?: OrganizationCollectOptions['onAccount'];
}

/** A scan of many accounts that was stopped before every account finished: nothing stored. */
export interface InterruptedOrganizationScan {
  status: 'interrupted';
  scanId: string;
  /** Accounts finished before the stop. */
  accountsDone: number;
}

/**
 * The organisation-wide scan: every listed account collected through its member role (the
 * scanner's own with its own credentials), merged into one evidence document, judged and
 * stored as one scan. Its scope names every account and the ones that could not be read, so
 * drift calls their earlier findings unverifiable, never gone. An abort stores nothing: a
 * scan missing accounts it never reached would be published as the latest.
 */
export async function runOrganizationScan(
  plan: OrganizationScanPlan,
  ports: OrganizationScanPorts,
): Promise<CompletedScan | InterruptedOrganizationScan> {
  allowListenersFor(ports.signal, plan.concurrency ?? plan.config.scan.concurrency);
  const started = performance.now();
  const { scanId } = plan;
  const result = await collectOrganization({
    accounts: plan.accounts,
    own: ports.own,
    roles: ports.roles,
    clientsFor: ports.clientsFor,
    accountConcurrency: plan.accountConcurrency,
    region: ports.region,
    collect: collectOptionsOf(plan, ports),
    ...(ports.onAccount ? { onAccount: ports.onAccount } : {}),
  });
  const accounts = result.evidence.accounts ?? [];
  if (result.interrupted)
    return {
      status: 'interrupted',
      scanId,
      accountsDone: accounts.filter((a) => a.status !== 'skipped').length,
    };
  const own = ports.clientsFor(ports.own.accountId);
  try {
    await addPolicyLayers(
      result.evidence,
      accounts.filter((a) => a.status === 'scanned').map((a) => a.accountId),
      own,
      plan.config,
      result.stats,
      ports.signal,
    );
  } finally {
    own.destroy();
  }
  const staging = ports.staging?.(scanId);
  const objectFiles = staging ? await objectFilesFromChunks(staging, result.evidence.buckets) : [];
  const published = await judgeAndStore(result.evidence, plan.config, {
    source: plan.rescan ? 'rescan' : 'scan',
    ...(plan.rescan ? { rescanOf: { ...plan.rescan.of, events: plan.rescan.events } } : {}),
    ...(ports.store ? { store: ports.store } : {}),
    collection: result.stats,
    timings: { collectMs: Math.round(performance.now() - started) },
    objectFiles,
    scope: {
      buckets: plan.buckets,
      regions: plan.regions,
      accounts: accounts.map((a) => a.accountId),
      unreachableAccounts: accounts.filter((a) => a.status === 'failed').map((a) => a.accountId),
    },
  });
  return completed(result, published);
}

/** A finished scan: what was collected and what was stored of it. */
function completed(
  result: Pick<CollectResult, 'stats' | 'evidence'>,
  published: Awaited<ReturnType<typeof judgeAndStore>>,
): CompletedScan {
  return {
    status: 'completed',
    // The stored id: a new one when an earlier write left files under the collected id.
    scanId: published.summary.scanId,
    stats: result.stats,
    evidence: result.evidence,
    ...published,
  };
}

/**
 * Every call in flight listens on the scan's abort signal (the SDK's and the direct HEAD
 * transport's, a few each): with 16 calls in flight Node warned of a listener leak at 11.
 * The bound follows the calls in flight, so a real leak, which grows without bound, still warns.
 */
function allowListenersFor(signal: AbortSignal | undefined, concurrency: number): void {
  if (signal) setMaxListeners(4 * concurrency + 32, signal);
}

/**
 * What one account's collection takes from a plan, for a one-account and an organisation
 * scan alike: the ids and time, the filters, the directory bucket choices, the objects.
 */
function collectOptionsOf(
  plan: ScanPlan,
  ports: Pick<ScanPorts, 'staging' | 'signal'>,
): Omit<CollectOptions, 'clients' | 'onProgress' | 'sharedLimit'> {
  return {
    concurrency: plan.concurrency ?? plan.config.scan.concurrency,
    scanId: plan.scanId,
    scanTime: plan.scanTime,
    toolVersion: TOOL_VERSION,
    buckets: plan.buckets,
    regions: plan.regions,
    ...(plan.directoryBuckets === false ? { directoryBuckets: false } : {}),
    ...(plan.directoryBucketRegions ? { directoryBucketRegions: plan.directoryBucketRegions } : {}),
    // A rescan names buckets that may be gone, or (organisation-wide) in another account.
    ...(plan.rescan ? { missingBucketsOk: true } : {}),
    ...(plan.rescan?.objects ? { carriedObjects: carriedFrom(plan.rescan.objects) } : {}),
    ...(plan.objects
      ? { objects: objectOptions(plan.objects, plan.config, sinksFor(ports, plan.scanId)) }
      : {}),
    ...(ports.signal ? { signal: ports.signal } : {}),
  };
}

/** The lookup collection calls for each bucket a rescan read, from the full scan's tallies. */
function carriedFrom(
  objects: Record<string, ObjectScanEvidence>,
): NonNullable<CollectOptions['carriedObjects']> {
  return (bucket) => objects[`${bucket.accountId}/${bucket.region}/${bucket.name}`];
}

/** The object options collection takes, from the request and the config's scan settings. */
export function objectOptions(
  request: ObjectRequest,
  config: LoadedConfig,
  sinks: Pick<ObjectScanOptions, 'sinkFor'> = {},
): ObjectScanOptions {
  return {
    mode: request.mode,
    versions: request.versions,
    sampleSize: request.sampleSize,
    prefixConcurrency: config.scan.prefixConcurrency,
    headTransport: config.scan.headTransport,
    ...(request.maxInventoryAgeDays !== undefined
      ? { maxInventoryAgeDays: request.maxInventoryAgeDays }
      : {}),
    ...sinks,
  };
}

/**
 * Per-object CSV sinks: each run of a bucket's sweep writes one chunk to the staging area,
 * named after the listing page it starts from, so a run a crash cut short is replaced by the
 * next resume, never appended to.
 */
function sinksFor(
  ports: Pick<ScanPorts, 'staging'>,
  scanId: string,
  startPage: (bucket: string) => number = () => 0,
): Pick<ObjectScanOptions, 'sinkFor'> {
  const staging = ports.staging?.(scanId);
  if (!staging) return {};
  return { sinkFor: (bucket) => chunkedObjectSink(staging, bucket, startPage(bucket.name)) };
}

async function settle(
  result: CollectResult,
  config: LoadedConfig,
  ports: ScanPorts,
  started: number,
  scope: ScanSummaryFile['scope'],
  rescan?: ScanPlan['rescan'],
): Promise<ScanOutcome> {
  const scanId = result.evidence.scanId;
  if (result.checkpoint) {
    const progress = describeCheckpoint(result.checkpoint);
    if (!ports.checkpoints) {
      const reason = ports.signal?.reason as Error | string | undefined;
      throw new CollectError(
        `the scan was interrupted (${String((reason as Error)?.message ?? reason ?? 'aborted')}: ${progress}) and there is no report bucket or store to keep its checkpoint in`,
      );
    }
    // The scope goes with the checkpoint, so the resumed scan's summary still says it.
    await ports.checkpoints.save(scope ? { ...result.checkpoint, scope } : result.checkpoint);
    return { status: 'checkpointed', scanId, progress, checkpoint: ports.checkpoints.describe() };
  }
  await addPolicyLayers(
    result.evidence,
    [result.evidence.accountId],
    ports.clients,
    config,
    result.stats,
    ports.signal,
  );
  const staging = ports.staging?.(scanId);
  const objectFiles = staging ? await objectFilesFromChunks(staging, result.evidence.buckets) : [];
  const published = await judgeAndStore(result.evidence, config, {
    source: rescan ? 'rescan' : 'scan',
    ...(rescan ? { rescanOf: { ...rescan.of, events: rescan.events } } : {}),
    ...(ports.store ? { store: ports.store } : {}),
    collection: result.stats,
    timings: { collectMs: Math.round(performance.now() - started) },
    objectFiles,
    ...(scope ? { scope } : {}),
  });
  await ports.checkpoints?.clear();
  return completed(result, published);
}

/**
 * Reads the RCPs and SCPs of the scanned accounts into the evidence, once per scan with the
 * scanner's own credentials (the management account or a delegated administrator), unless
 * the config turns it off. Never throws: what could not be read is in each account's probes.
 */
export async function addPolicyLayers(
  evidence: ScanEvidence,
  accountIds: string[],
  clients: AwsClients,
  config: LoadedConfig,
  stats: CollectResult['stats'],
  signal?: AbortSignal,
): Promise<void> {
  if (!config.scan.organizationPolicies || accountIds.length === 0) return;
  const before = clients.attempts.organizations;
  const { layers, calls } = await collectPolicyLayers(await clients.organizations(), accountIds, {
    ...(signal ? { signal } : {}),
  });
  evidence.policyLayers = layers;
  stats.organizationsCalls += calls;
  stats.httpAttempts += clients.attempts.organizations - before;
  stats.retries += Math.max(0, clients.attempts.organizations - before - calls);
}

/** How {@link judgeAndStore} labels and stores a judged scan. */
export interface StoreRequest {
  store?: ReportStore;
  source: ScanSummaryFile['source'];
  collection?: ScanSummaryFile['collection'];
  timings?: Record<string, number>;
  /** A re-evaluation of recorded evidence: a scan of its own, saying what it judged. */
  evaluatedFrom?: ScanSummaryFile['evaluatedFrom'];
  /** Stored scans are immutable: a re-evaluation gets its own id (the host makes it). */
  scanId?: string;
  /** The buckets the scan looked at; absent: the whole account. */
  scope?: ScanSummaryFile['scope'];
  /** A rescan: the full scan it updates and the events that asked for it. */
  rescanOf?: ScanSummaryFile['rescanOf'];
  objectFiles?: ObjectFile[];
}

/** A judged scan: its findings and the summary it is stored with. */
export interface JudgedScan {
  findings: Finding[];
  summary: ScanSummaryFile;
}

/**
 * Evaluate → store: judges the evidence with the config and, when there is a store, writes the
 * report (index.json last). The summary records the config's origin and hash.
 */
export async function judgeAndStore(
  evidence: ScanEvidence,
  config: LoadedConfig,
  request: StoreRequest,
): Promise<JudgedScan & { report?: string }> {
  const judged = judgeScan(evidence, config, request);
  return request.store
    ? storeJudgedScan(judged, evidence, { ...request, store: request.store })
    : judged;
}

/** Judges evidence into the summary it would be stored with, without storing it. */
export function judgeScan(
  evidence: ScanEvidence,
  config: LoadedConfig,
  request: Omit<StoreRequest, 'store' | 'objectFiles'>,
): JudgedScan {
  const started = performance.now();
  const { findings, summary } = evaluateScan(evidence, config.evaluation);
  const evaluateMs = Math.round(performance.now() - started);
  const stored: ScanSummaryFile = {
    schemaVersion: '1',
    source: request.source,
    ...summary,
    ...(request.scanId ? { scanId: request.scanId } : {}),
    ...(request.evaluatedFrom ? { evaluatedFrom: request.evaluatedFrom } : {}),
    ...(request.rescanOf ? { rescanOf: request.rescanOf } : {}),
    timings: { ...request.timings, evaluateMs },
    ...(request.collection ? { collection: request.collection } : {}),
    config: config.provenance,
    ...(request.scope ? { scope: request.scope } : {}),
  };
  return { findings, summary: stored };
}

/**
 * Writes a judged scan (index.json last), with each finding's change since the previous scan
 * of its scope. A scan id whose files an earlier, unfinished write left behind is never
 * reused: the same judgement is stored under a new id that names the one it finishes.
 */
export async function storeJudgedScan(
  judged: JudgedScan,
  evidence: ScanEvidence,
  request: { store: ReportStore; objectFiles?: ObjectFile[] },
): Promise<JudgedScan & { report: string }> {
  const { findings, summary: stored } = judged;
  const store = request.store;
  // The change kinds are a view of the history: an unreadable previous scan must not keep
  // this one from being stored, so the index says why they are missing instead.
  const changes = await changesSincePrevious(store, stored, findings).then(
    (column) => (column ? { changes: column } : {}),
    (error: unknown) => ({ changesUnavailable: (error as Error).message }),
  );
  const write = async (summary: ScanSummaryFile) => {
    const posture = summary.rescanOf
      ? await postureWithRescan(
          store,
          summary,
          findings,
          'changes' in changes ? changes.changes : undefined,
          evidence,
        )
      : undefined;
    return store.writeScan({
      summary,
      findings,
      evidence,
      ...(request.objectFiles?.length ? { objectFiles: request.objectFiles } : {}),
      ...changes,
      rules: ruleDocuments(RULE_CATALOGUE),
      ...(posture ? { posture } : {}),
    });
  };
  try {
    return { findings, summary: stored, report: await write(stored) };
  } catch (error) {
    if (!(error instanceof ScanFilesTaken)) throw error;
    // An earlier write of this scan id stopped before index.json (a crashed finalize, a
    // resumed scan) and its files are never replaced: the same judgement under a new id,
    // which says whose write it finishes. The evidence keeps the id that collected it.
    const retried: ScanSummaryFile = {
      ...stored,
      scanId: newScanId(new Date()),
      retryOf: stored.scanId,
    };
    return { findings, summary: retried, report: await write(retried) };
  }
}

/**
 * The posture now of the full scan a rescan updates, stored with the rescan so the dashboard's
 * first request after it reads one file. It is a view: when it cannot be computed (the full
 * scan unreadable), the rescan is stored without it and the dashboard computes it on request.
 */
async function postureWithRescan(
  store: ReportStore,
  summary: ScanSummaryFile,
  findings: Finding[],
  changes: ChangeColumn | undefined,
  evidence: ScanEvidence,
): Promise<ScanRecord['posture']> {
  return storedPosture(
    store,
    { summary, findings, ...(changes ? { changes } : {}) },
    evidence,
  ).catch(() => undefined);
}
