import pLimit from 'p-limit';
import type { AwsClients } from '../collect/clients.js';
import type { LoadedConfig } from '../config/config.js';
import { ConfigError, ReportStoreError } from '../errors.js';
import type { RescanTargets } from '../events/cloudtrail.js';
import { bucketEvidencePath } from '../evidence/paths.js';
import type { BucketEvidenceFile, ObjectScanEvidence } from '../evidence/types.js';
import { VIEW_DIR, type ViewBuckets, type ViewIndex } from '../findings-index/format.js';
import { peekFinding } from '../history/drift-stream.js';
import { isFullScan } from '../history/previous.js';
import type { IndexEntry, ReportStore } from '../report-store/types.js';
import {
  type CompletedScan,
  type OrganizationScanPorts,
  runOrganizationScan,
  runScan,
  type ScanPorts,
} from './run-scan.js';

/** What a rescan did: the buckets it re-read, and what it could not act on, and why. */
export interface RescanOutcome {
  /** The scoped scan, when there was anything to re-read. */
  scan?: CompletedScan;
  /** The full scan it updates. */
  rescanOf?: { scanId: string; scanTime: string };
  /** The buckets re-read, from bucket events and from the keys' buckets. */
  buckets: string[];
  /** Each key event's buckets, as the latest full scan names them. */
  keys: { keyArn: string; buckets: string[] }[];
  /** The accounts the rescan read (the scanner's own, and members through their role). */
  accounts: string[];
  /** Targets set aside: another account's, or nothing stored to resolve a key against. */
  skipped: { target: string; reason: string }[];
}

/** The newest whole (unscoped, not rescan) scan of an account in the index. */
export function latestFullScan(
  scans: readonly IndexEntry[],
  account: string,
): IndexEntry | undefined {
  return scans.find((s) => s.accountId === account && isFullScan(s));
}

/** A bucket of a stored scan, as its evidence path names it. */
export interface StoredBucket {
  account: string;
  region: string;
  name: string;
}

/**
 * The buckets of a stored scan: from its findings index's bucket dictionary (small: one entry
 * per bucket), else from its findings, each line's resource peeked (a scan stored before the
 * index). Account-level entries have no evidence file and are passed over by the readers.
 */
async function bucketsOfScan(store: ReportStore, scanId: string): Promise<StoredBucket[]> {
  const [indexBytes, dictionaryBytes] = await Promise.all([
    store.readScanFile(scanId, `${VIEW_DIR}/index.json`),
    store.readScanFile(scanId, `${VIEW_DIR}/buckets.json`),
  ]);
  if (indexBytes && dictionaryBytes) {
    const index = JSON.parse(indexBytes.toString('utf8')) as ViewIndex;
    const dictionary = JSON.parse(dictionaryBytes.toString('utf8')) as ViewBuckets;
    return dictionary.names.map((name, id) => ({
      account: index.accounts[dictionary.accounts[id] as number] ?? '',
      region: index.regions[dictionary.regions[id] as number] ?? '',
      name,
    }));
  }
  const buckets = new Map<string, StoredBucket>();
  for await (const batch of store.findingLines(scanId))
    for (const line of batch) {
      // Only the resource is needed: peeked from the line's head, never parsed whole.
      const r = peekFinding(line).resource;
      if (r.type === 'AWS::S3::Bucket') buckets.set(`${r.account}/${r.region}/${r.name}`, r);
    }
  return [...buckets.values()];
}

/** A bucket's evidence file in a stored scan; undefined when the scan has none for it. */
async function bucketEvidenceOf(
  store: ReportStore,
  scanId: string,
  bucket: StoredBucket,
): Promise<BucketEvidenceFile | undefined> {
  const path = bucketEvidencePath(bucket.account, bucket.region, bucket.name);
  const raw = await store.readScanFile(scanId, path);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as BucketEvidenceFile;
  } catch (error) {
    throw new ReportStoreError(
      `${store.describe(scanId)}/${path} is corrupt: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * The object evidence a full scan recorded for the buckets a rescan reads, by
 * `account/region/bucket`, marked as carried from it. A bucket the scan did not sweep (or
 * does not hold) has none, and its object rules say SKIPPED as before.
 */
export async function objectsToCarry(
  store: ReportStore,
  full: { scanId: string; scanTime: string },
  wanted: readonly { account: string; bucket: string }[],
  stored: readonly StoredBucket[],
): Promise<Record<string, ObjectScanEvidence>> {
  const names = new Set(wanted.map((w) => `${w.account}/${w.bucket}`));
  const buckets = stored.filter((b) => names.has(`${b.account}/${b.name}`));
  const limit = pLimit(16);
  const carried: Record<string, ObjectScanEvidence> = {};
  await Promise.all(
    buckets.map((b) =>
      limit(async () => {
        const objects = (await bucketEvidenceOf(store, full.scanId, b))?.bucket.objects;
        if (!objects) return;
        // Carried from a rescan that carried it: still the full scan's reading.
        const from = objects.carriedFrom ?? { scanId: full.scanId, scanTime: full.scanTime };
        carried[`${b.account}/${b.region}/${b.name}`] = { ...objects, carriedFrom: from };
      }),
    ),
  );
  return carried;
}

/**
 * The buckets of a full scan that use a key: as their default (the key's ARN, or an alias that
 * DescribeKey resolved to it) or for any object the scan saw. Reads each bucket's evidence file
 * of that scan (16 at a time): the findings do not say which keys objects use.
 */
export async function bucketsUsingKeys(
  store: ReportStore,
  scanId: string,
  keyArns: readonly string[],
  buckets: readonly StoredBucket[],
): Promise<Map<string, { account: string; bucket: string }[]>> {
  const wanted = new Set(keyArns);
  const found = new Map<string, Set<string>>(keyArns.map((k) => [k, new Set()]));
  const limit = pLimit(16);
  await Promise.all(
    buckets.map((b) =>
      limit(async () => {
        const file = await bucketEvidenceOf(store, scanId, b);
        if (!file) return;
        const ref = file.bucket.defaultKmsKeyRef;
        const described = ref ? file.kmsKeys[ref]?.describe : undefined;
        const uses = new Set<string>([
          ...(ref ? [ref] : []),
          ...(described && 'ok' in described && described.ok.Arn ? [described.ok.Arn] : []),
          ...Object.keys(file.bucket.objects?.byKmsKey ?? {}),
        ]);
        for (const key of uses) if (wanted.has(key)) found.get(key)?.add(`${b.account}/${b.name}`);
      }),
    ),
  );
  return new Map(
    [...found].map(([k, v]) => [
      k,
      [...v].sort().map((id) => {
        const [account = '', ...rest] = id.split('/');
        return { account, bucket: rest.join('/') };
      }),
    ]),
  );
}

/**
 * The rescan use case: the buckets the events named, and the buckets of the latest full scan
 * that use the keys the events named, re-read live and stored as a scoped scan linked to that
 * full scan (so drift and alerts compare within those buckets only). Events about other
 * accounts are set aside with the reason: this host reads its own account.
 */
export async function runRescan(
  request: {
    targets: RescanTargets;
    config: LoadedConfig;
    scanId: string;
    scanTime: Date;
    /** The account the clients read (its events are acted on). */
    accountId: string;
  },
  ports: Omit<ScanPorts, 'checkpoints'> & {
    clients: AwsClients;
    store: ReportStore;
    /**
     * Member accounts' events are rescanned through their member role when given (an
     * organisation's posture events forwarded to the scanner); else they are set aside.
     */
    members?: Omit<OrganizationScanPorts, 'store' | 'staging' | 'signal' | 'onProgress'>;
  },
): Promise<RescanOutcome> {
  const { targets, accountId } = request;
  const skipped: RescanOutcome['skipped'] = [];
  const acted = (account: string) => account === accountId || ports.members !== undefined;
  for (const t of [...targets.buckets, ...targets.keys])
    if (!acted(t.account))
      skipped.push({
        target: 'bucket' in t ? `bucket ${t.bucket}` : `key ${t.keyArn}`,
        reason: `account ${t.account} is a member account and this rescan has no member role to read it with (--role-name)`,
      });
  const index = await ports.store.readIndex();
  const full = index ? latestFullScan(index.scans, accountId) : undefined;
  // The full scan's bucket list, read once for both the key lookup and the carried objects.
  let listed: Promise<StoredBucket[]> | undefined;
  const storedBuckets = (scanId: string) => {
    listed ??= bucketsOfScan(ports.store, scanId);
    return listed;
  };
  const keyTargets = targets.keys.filter((k) => acted(k.account));
  const keys: RescanOutcome['keys'] = [];
  const fromKeys: { account: string; bucket: string }[] = [];
  if (keyTargets.length > 0) {
    if (!full)
      for (const k of keyTargets)
        skipped.push({
          target: `key ${k.keyArn}`,
          reason: `no full scan of account ${accountId} in ${ports.store.describe()} says which buckets use it; the next full scan covers it`,
        });
    else {
      const using = await bucketsUsingKeys(
        ports.store,
        full.scanId,
        keyTargets.map((k) => k.keyArn),
        await storedBuckets(full.scanId),
      );
      for (const k of keyTargets) {
        const buckets = using.get(k.keyArn) ?? [];
        keys.push({ keyArn: k.keyArn, buckets: buckets.map((b) => b.bucket) });
        fromKeys.push(...buckets);
      }
    }
  }
  const wanted = [
    ...targets.buckets
      .filter((b) => acted(b.account))
      .map((b) => ({ account: b.account, bucket: b.bucket })),
    ...fromKeys,
  ];
  const buckets = [...new Set(wanted.map((w) => w.bucket))].sort();
  const accounts = [...new Set(wanted.map((w) => w.account))].sort();
  const linked = full ? { rescanOf: { scanId: full.scanId, scanTime: full.scanTime } } : {};
  if (buckets.length === 0) return { buckets, keys, skipped, accounts, ...linked };
  if (!full)
    throw new ConfigError(
      `a rescan updates a full scan, and ${ports.store.describe()} has none of account ${accountId}: run s3scan scan first`,
    );
  const events = [...new Set([...targets.buckets, ...targets.keys].flatMap((t) => t.events))];
  const objects = await objectsToCarry(ports.store, full, wanted, await storedBuckets(full.scanId));
  const plan = {
    scanId: request.scanId,
    scanTime: request.scanTime,
    // Bucket names never hold glob characters: each is matched as itself.
    buckets,
    regions: [],
    config: request.config,
    rescan: { of: { scanId: full.scanId, scanTime: full.scanTime }, events, objects },
  };
  const members = ports.members;
  const onlyOwn = accounts.every((a) => a === accountId);
  if (onlyOwn || !members) {
    const outcome = await runScan(plan, ports);
    if (outcome.status !== 'completed')
      throw new ConfigError(`rescan ${request.scanId} was interrupted: ${outcome.progress}`);
    return { scan: outcome, buckets, keys, skipped, accounts, ...linked };
  }
  // Members' buckets through their role, the scanner's own with its own credentials: one
  // scoped scan of those accounts, each listing only the named buckets it holds.
  const outcome = await runOrganizationScan(
    {
      ...plan,
      accounts: { accounts: accounts.map((id) => ({ id })), skipped: [] },
      accountConcurrency: 4,
    },
    { ...members, store: ports.store, ...(ports.staging ? { staging: ports.staging } : {}) },
  );
  if (outcome.status !== 'completed')
    throw new ConfigError(
      `rescan ${request.scanId} was interrupted after ${outcome.accountsDone} accounts`,
    );
  return { scan: outcome, buckets, keys, skipped, accounts, ...linked };
}
