import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import pLimit from 'p-limit';
import type { Finding } from '../engine/types.js';
import { isBucketScoped } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import type { ViewChange } from '../findings-index/format.js';
import {
  allFindings,
  bucketOf,
  type LoadedView,
  loadView,
  readView,
  rowsOf,
  type ViewRows,
} from '../findings-index/read.js';
import type { IndexEntry, ReportStore } from '../report-store/types.js';
import { rescansOver, standingRescans } from './previous.js';

/**
 * The posture now: a full scan overlaid with the rescans since. The rule, for each bucket: the
 * newest scan that looked at it wins. A rescan looked at the buckets its scope names, except
 * those of an account it could not reach; one that found a bucket gone leaves none of its
 * findings. Computed when asked, from the full scan's findings index and the rescans'
 * findings, which are few: nothing is written when a rescan is stored, so a rescan's cost
 * does not grow with the account.
 */

/** A finding a rescan made, with its change since the look before it and the rescan's time. */
export interface OverlayFinding {
  finding: Finding;
  change: ViewChange;
  seen: { scanId: string; scanTime: string };
}

/** A full scan and the rescans over it, ready to answer from. */
export interface PostureLayer {
  /** The full scan. */
  entry: IndexEntry;
  view: LoadedView;
  rows: ViewRows;
  rescans: IndexEntry[];
  /** For each rescanned bucket name, the rescan whose findings stand. */
  newest: Map<string, IndexEntry>;
  /** 1 for each bucket id of the full scan's index a rescan replaced. */
  replaced: Uint8Array;
  /** 1 for each id of the index's bucket dictionary that is an account or listing. */
  accountLevel: Uint8Array;
  /** The standing rescans' findings of the buckets they replaced, in no particular order. */
  overlay: OverlayFinding[];
}

const CACHED_LAYERS = 2;
const layers = new LRUCache<string, Promise<PostureLayer | undefined>>({ maxSize: CACHED_LAYERS });

/**
 * The posture layer of a full scan, or undefined when no rescan followed it (or it has no
 * findings index to overlay). Cached by the scan and the rescans over it, so a new rescan
 * makes a new layer and a stale one is never answered from.
 */
export function loadPosture(
  store: ReportStore,
  scans: readonly IndexEntry[],
  entry: IndexEntry,
): Promise<PostureLayer | undefined> {
  const rescans = rescansOver(scans, entry);
  if (rescans.length === 0) return Promise.resolve(undefined);
  const key = `${store.describe(entry.scanId)}|${rescans.map((r) => r.scanId).join(',')}`;
  const cached = layers.get(key);
  if (cached) return cached;
  const loading = buildLayer(store, entry, rescans);
  layers.add(key, loading);
  loading.catch(() => layers.remove(key));
  return loading;
}

async function buildLayer(
  store: ReportStore,
  entry: IndexEntry,
  rescans: IndexEntry[],
): Promise<PostureLayer | undefined> {
  const view = await loadView(store, entry.scanId);
  if (!view) return undefined;
  const rows = await rowsOf(store, view);
  const accountLevel = accountLevelOf(view, rows);
  const standingFor = standingRescans(rescans);
  // The full scan's buckets a rescan looked at again, and the rescan that stands for each.
  const newest = new Map<string, IndexEntry>();
  const replaced = new Uint8Array(view.index.buckets);
  for (const name of new Set(rescans.flatMap((r) => r.scope?.buckets ?? [])))
    for (const id of rows.bucketsByName.get(name) ?? []) {
      if (accountLevel[id] === 1) continue;
      const [account] = bucketOf(view, rows, id);
      const standing = standingFor(name, account);
      if (!standing) continue;
      replaced[id] = 1;
      newest.set(name, standing);
    }
  const limit = pLimit(8);
  const overlay = (
    await Promise.all(
      rescans.map((rescan) =>
        limit(async () => {
          const rescanView = await readView(store, rescan.scanId);
          if (!rescanView)
            throw new ReportStoreError(
              `${store.describe(rescan.scanId)} has no findings index: the posture now cannot be computed`,
            );
          const seen = { scanId: rescan.scanId, scanTime: rescan.scanTime };
          return (await allFindings(store, rescanView))
            .filter(
              ({ finding: f }) =>
                isBucketScoped(f.resource) &&
                standingFor(f.resource.name, f.resource.account) === rescan,
            )
            .map((f) => ({ ...f, seen }));
        }),
      ),
    )
  ).flat();
  // A bucket created since the full scan: the rescan that saw it.
  const byId = new Map(rescans.map((r) => [r.scanId, r]));
  for (const o of overlay) {
    const rescan = byId.get(o.seen.scanId);
    if (rescan && !newest.has(o.finding.resource.name)) newest.set(o.finding.resource.name, rescan);
  }
  return { entry, view, rows, rescans, newest, replaced, accountLevel, overlay };
}

/**
 * Which dictionary entries are accounts or listings (never replaced by a bucket's rescan,
 * never ranked as buckets): those with findings of account-level rules. A scan stored before
 * rules recorded what they judge: an entry named as its own account is one.
 */
function accountLevelOf(view: LoadedView, rows: ViewRows): Uint8Array {
  const { index } = view;
  const types = new Map(view.rules.map((r) => [r.id, r.resourceType]));
  const known = view.rules.some((r) => r.resourceType !== undefined);
  const out = new Uint8Array(index.buckets);
  if (!known) {
    rows.buckets.names.forEach((name, id) => {
      if (name === index.accounts[rows.buckets.accounts[id] as number]) out[id] = 1;
    });
    return out;
  }
  const accountRule = Uint8Array.from(index.rules, (r) =>
    types.get(r) === 'AWS::::Account' ? 1 : 0,
  );
  const { rule, bucket } = rows.columns;
  for (let row = 0; row < index.count; row++)
    if (accountRule[rule[row] as number] === 1) out[bucket[row] as number] = 1;
  return out;
}
