import { gzipSync } from 'node:zlib';
import type { EvaluationSummary } from '../engine/evaluate.js';
import type { Finding } from '../engine/types.js';
import { ReportStoreError } from '../errors.js';
import { UNUSABLE_KEY_STATES } from '../evidence/kms.js';
import type { BucketEvidence, ObjectTally, ScanEvidence } from '../evidence/types.js';
import {
  type ChangeColumn,
  columnLayout,
  FLAG_SUPPRESSED,
  GROUPS,
  type ObjectsAtRisk,
  type OverlayFinding,
  overlayHead,
  overviewCounts,
  PAGE_ROWS,
  POSTURE_FILE,
  POSTURE_HEADS_FILE,
  POSTURE_OVERLAY_FILE,
  type PostureFile,
  type PostureHeadsFile,
  type RuleDocument,
  VIEW_CHANGES,
  VIEW_DIR,
  VIEW_SCHEMA_VERSION,
  VIEW_SEVERITIES,
  VIEW_STATUSES,
  type ViewBuckets,
  type ViewIndex,
  type ViewOverview,
} from './format.js';
import { OverviewTally, talliedOf } from './tally.js';

/** What the index is built from: the stored scan's parts. */
export interface FindingsIndexInput {
  summary: EvaluationSummary;
  findings: readonly Finding[];
  evidence: ScanEvidence;
  changes?: ChangeColumn;
  changesUnavailable?: string;
  rules?: readonly RuleDocument[];
  /** A rescan's posture now (written as `view/posture.json` and its overlay). */
  posture?: { file: PostureFile; overlay: readonly OverlayFinding[] };
}

/** A file of the scan folder, by its path inside it. */
export interface ScanFile {
  path: string;
  body: Buffer;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const bucketKey = (f: Finding) => `${f.resource.account}\n${f.resource.region}\n${f.resource.name}`;

/** Current and noncurrent tallies of one class, summed. */
function tallyOf(...tallies: (ObjectTally | undefined)[]): { count: number; bytes: number } {
  return tallies.reduce(
    (sum, t) => ({ count: sum.count + (t?.count ?? 0), bytes: sum.bytes + (t?.bytes ?? 0) }),
    { count: 0, bytes: 0 },
  );
}

/** One bucket's objects in each class at risk (current and noncurrent versions summed). */
export interface BucketObjectRisk {
  unencrypted: { count: number; bytes: number };
  sseC: { count: number; bytes: number };
  unusableKey: { count: number; bytes: number };
}

/** A bucket's objects at risk; undefined when its objects were not scanned. */
export function bucketObjectRisk(
  bucket: BucketEvidence,
  kmsKeys: ScanEvidence['kmsKeys'],
): BucketObjectRisk | undefined {
  const objects = bucket.objects;
  if (!objects) return undefined;
  // A key S3 names but KMS no longer has (absent), or one in a state that cannot decrypt.
  const lost = Object.entries(objects.byKmsKey).filter(([arn]) => {
    const describe = kmsKeys[arn]?.describe;
    return (
      describe !== undefined &&
      ('absent' in describe ||
        ('ok' in describe && UNUSABLE_KEY_STATES.has(describe.ok.KeyState ?? '')))
    );
  });
  return {
    unencrypted: tallyOf(objects.byEncryption.NONE, objects.noncurrentByEncryption.NONE),
    sseC: tallyOf(objects.byEncryption['SSE-C'], objects.noncurrentByEncryption['SSE-C']),
    unusableKey: tallyOf(...lost.map(([, t]) => t)),
  };
}

type Risk = NonNullable<ViewOverview['objectsAtRisk']>;

/** No object at risk, no bucket scanned. */
export const noObjectRisk = (): Risk => {
  const zero = (): ObjectsAtRisk => ({ count: 0, bytes: 0, buckets: 0 });
  return { unencrypted: zero(), sseC: zero(), unusableKey: zero(), scannedBuckets: 0 };
};

/** Adds (`sign` 1) or takes away (-1) one scanned bucket's objects at risk. */
export function addObjectRisk(into: Risk, risk: BucketObjectRisk, sign: 1 | -1): void {
  into.scannedBuckets += sign;
  for (const kind of ['unencrypted', 'sseC', 'unusableKey'] as const) {
    const t = risk[kind];
    if (t.count === 0) continue;
    into[kind].count += sign * t.count;
    into[kind].bytes += sign * t.bytes;
    into[kind].buckets += sign;
  }
}

function objectsAtRisk(evidence: ScanEvidence): ViewOverview['objectsAtRisk'] {
  const risk = noObjectRisk();
  for (const bucket of evidence.buckets) {
    const one = bucketObjectRisk(bucket, evidence.kmsKeys);
    if (one) addObjectRisk(risk, one, 1);
  }
  return risk.scannedBuckets > 0 ? risk : null;
}

/**
 * The findings index of a scan (see `format.ts`): the files to write under `view/`, built
 * from what the store is about to write. Deterministic: the same scan gives the same bytes.
 */
export function buildFindingsIndex(input: FindingsIndexInput): ScanFile[] {
  const { findings, summary, changes } = input;
  if (changes && changes.kinds.length !== findings.length)
    throw new ReportStoreError(
      `the change column has ${changes.kinds.length} kinds for ${findings.length} findings`,
    );
  const dictionaries = dictionariesOf(findings);
  const order = worstFirst(findings, dictionaries);
  const { rows, layout, pages, groups, members } = rowsAndPages(
    findings,
    order,
    dictionaries,
    changes,
  );
  const { rules, buckets, accounts, regions } = dictionaries;
  const index: ViewIndex = {
    schemaVersion: VIEW_SCHEMA_VERSION,
    scanId: summary.scanId,
    count: findings.length,
    pageRows: PAGE_ROWS,
    groups,
    pages,
    columns: layout.columns,
    rowsBytes: layout.bytes,
    rules,
    accounts,
    regions,
    buckets: buckets.length,
    changesFrom: changes?.from ?? null,
    ...(input.changesUnavailable ? { changesUnavailable: input.changesUnavailable } : {}),
  };
  const dictionary: ViewBuckets = {
    names: buckets.map((b) => b[2]),
    accounts: buckets.map((b) => dictionaries.accountIds.get(b[0]) ?? 0),
    regions: buckets.map((b) => dictionaries.regionIds.get(b[1]) ?? 0),
  };
  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value)}\n`);
  return [
    { path: `${VIEW_DIR}/rows.bin`, body: Buffer.from(rows) },
    { path: `${VIEW_DIR}/pages.bin`, body: Buffer.concat(members) },
    { path: `${VIEW_DIR}/buckets.json`, body: json(dictionary) },
    { path: `${VIEW_DIR}/rules.json`, body: json(input.rules ?? []) },
    { path: `${VIEW_DIR}/overview.json`, body: json(overviewOf(input)) },
    ...(input.posture ? postureFiles(input.posture.file, input.posture.overlay) : []),
    // Last: a reader that finds index.json finds the rest (the local store renames the folder
    // whole anyway; S3 writes in this order).
    { path: `${VIEW_DIR}/index.json`, body: json(index) },
  ];
}

/** A rescan's posture now: the file, the overlay's heads, and its findings one a line. */
function postureFiles(file: PostureFile, overlay: readonly OverlayFinding[]): ScanFile[] {
  const rescan = new Map(file.rescans.map((id, i) => [id, i]));
  const heads: PostureHeadsFile = {
    rows: overlay.map((o) => {
      const h = overlayHead(o);
      const at = rescan.get(o.seen.scanId);
      if (at === undefined)
        throw new ReportStoreError(`an overlay finding comes from ${o.seen.scanId}, not listed`);
      return [
        h.status,
        h.severity,
        h.name,
        h.account,
        h.region,
        h.rule,
        h.fingerprint,
        h.title,
        o.change,
        at,
      ];
    }),
  };
  const lines = overlay.map((o) => `${JSON.stringify(o.finding)}\n`).join('');
  return [
    { path: POSTURE_FILE, body: Buffer.from(`${JSON.stringify(file)}\n`) },
    { path: POSTURE_HEADS_FILE, body: Buffer.from(`${JSON.stringify(heads)}\n`) },
    { path: POSTURE_OVERLAY_FILE, body: gzipSync(lines) },
  ];
}

/** The index's dictionaries: rules, buckets (account, region, name), accounts and regions. */
interface Dictionaries {
  rules: string[];
  ruleIds: Map<string, number>;
  buckets: [string, string, string][];
  bucketIds: Map<string, number>;
  accounts: string[];
  accountIds: Map<string, number>;
  regions: string[];
  regionIds: Map<string, number>;
}

/** Every dictionary in name order, so comparing ids compares names. */
function dictionariesOf(findings: readonly Finding[]): Dictionaries {
  const rules = [...new Set(findings.map((f) => f.ruleId))].sort(compareText);
  const bucketTuples = new Map<string, [string, string, string]>();
  for (const f of findings)
    bucketTuples.set(bucketKey(f), [f.resource.account, f.resource.region, f.resource.name]);
  const buckets = [...bucketTuples.values()].sort(
    (a, b) => compareText(a[2], b[2]) || compareText(a[0], b[0]) || compareText(a[1], b[1]),
  );
  const accounts = [...new Set(buckets.map((b) => b[0]))].sort(compareText);
  const regions = [...new Set(buckets.map((b) => b[1]))].sort(compareText);
  return {
    rules,
    ruleIds: new Map(rules.map((r, i) => [r, i])),
    buckets,
    bucketIds: new Map(buckets.map((b, i) => [b.join('\n'), i])),
    accounts,
    accountIds: new Map(accounts.map((a, i) => [a, i])),
    regions,
    regionIds: new Map(regions.map((r, i) => [r, i])),
  };
}

const statusOf = (f: Finding) => VIEW_STATUSES.indexOf(f.status);
const severityOf = (f: Finding) => VIEW_SEVERITIES.indexOf(f.severity);

/** The findings' positions, worst first: status, severity, bucket, rule, fingerprint. */
function worstFirst(findings: readonly Finding[], dictionaries: Dictionaries): number[] {
  const bucketOf = (f: Finding) => dictionaries.bucketIds.get(bucketKey(f)) ?? 0;
  const ruleOf = (f: Finding) => dictionaries.ruleIds.get(f.ruleId) ?? 0;
  return findings
    .map((_, i) => i)
    .sort((a, b) => {
      const x = findings[a] as Finding;
      const y = findings[b] as Finding;
      return (
        statusOf(x) - statusOf(y) ||
        severityOf(x) - severityOf(y) ||
        bucketOf(x) - bucketOf(y) ||
        ruleOf(x) - ruleOf(y) ||
        compareText(x.fingerprint, y.fingerprint)
      );
    });
}

/**
 * The columns (one typed array each in `rows`), the (status, severity) group starts, and the
 * pages: gzip members of PAGE_ROWS findings each, a finding a line behind its change kind.
 */
function rowsAndPages(
  findings: readonly Finding[],
  order: readonly number[],
  dictionaries: Dictionaries,
  changes: FindingsIndexInput['changes'],
) {
  const count = findings.length;
  const layout = columnLayout(count);
  const rows = new ArrayBuffer(layout.bytes);
  const status = new Uint8Array(rows, layout.columns.status, count);
  const severity = new Uint8Array(rows, layout.columns.severity, count);
  const change = new Uint8Array(rows, layout.columns.change, count);
  const flags = new Uint8Array(rows, layout.columns.flags, count);
  const rule = new Uint16Array(rows, layout.columns.rule, count);
  const bucket = new Uint32Array(rows, layout.columns.bucket, count);
  const pages: number[] = [];
  const groups: number[] = [];
  const members: Buffer[] = [];
  let offset = 0;
  for (let row = 0; row < count; row += PAGE_ROWS) {
    const lines: string[] = [];
    for (let r = row; r < Math.min(count, row + PAGE_ROWS); r++) {
      const source = order[r] as number;
      const f = findings[source] as Finding;
      status[r] = statusOf(f);
      severity[r] = severityOf(f);
      const group = (status[r] as number) * VIEW_SEVERITIES.length + (severity[r] as number);
      while (groups.length <= group) groups.push(r);
      change[r] = changes ? VIEW_CHANGES.indexOf(changes.kinds[source] ?? 'none') : 0;
      flags[r] = f.suppression?.active ? FLAG_SUPPRESSED : 0;
      rule[r] = dictionaries.ruleIds.get(f.ruleId) ?? 0;
      bucket[r] = dictionaries.bucketIds.get(bucketKey(f)) ?? 0;
      // The change kind rides with the finding: a page answers both from one read.
      lines.push(`${change[r]}\t${JSON.stringify(f)}`);
    }
    const member = gzipSync(`${lines.join('\n')}\n`);
    pages.push(offset);
    members.push(member);
    offset += member.length;
  }
  pages.push(offset);
  while (groups.length <= GROUPS) groups.push(count);
  return { rows, layout, pages, groups, members };
}

/** The overview the dashboard's first screen reads: counts, top buckets, objects at risk, drift. */
function overviewOf(input: FindingsIndexInput): ViewOverview {
  const { findings, summary, changes } = input;
  const tally = new OverviewTally();
  for (const f of findings) tally.add(talliedOf(f));
  return {
    schemaVersion: VIEW_SCHEMA_VERSION,
    ...overviewCounts(summary),
    topBuckets: tally.topBuckets(),
    byAccount: tally.byAccount,
    byRegion: tally.byRegion,
    objectsAtRisk: objectsAtRisk(input.evidence),
    drift: changes ? { from: changes.from, counts: changes.counts } : null,
    ...(input.changesUnavailable ? { changesUnavailable: input.changesUnavailable } : {}),
  };
}
