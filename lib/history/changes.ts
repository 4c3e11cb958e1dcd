import type { Finding } from '../engine/types.js';
import type { ChangeColumn, ViewChange } from '../findings-index/format.js';
import { indexEntryOf } from '../report-store/index-file.js';
import type { ReportStore, ScanSummaryFile } from '../report-store/types.js';
import { inScope, kindOf, scopeOf, viewOf } from './drift.js';
import { pack, peekFinding, unpack } from './drift-stream.js';
import { FingerprintTable } from './fingerprint-table.js';
import { previousLines, previousViewOf } from './previous.js';

/**
 * Each finding's change since the previous scan of the same scope (the alerts' rule and
 * kinds), for the findings index; undefined for the first scan of a scope. The previous scan
 * is streamed once into a fingerprint table, so a million findings cost about 40 MB.
 */
export async function changesSincePrevious(
  store: ReportStore,
  summary: ScanSummaryFile,
  findings: readonly Finding[],
): Promise<ChangeColumn | undefined> {
  const index = await store.readIndex();
  // The previous scan of the scope, overlaid with the rescans since (the alerts' rule).
  const view = index ? previousViewOf(index.scans, indexEntryOf(summary)) : undefined;
  if (!view) return undefined;
  const before = view.newest;
  const scope = scopeOf(summary);
  const table = new FingerprintTable();
  for await (const batch of previousLines(store, view)())
    for (const line of batch) {
      const peeked = peekFinding(line);
      if (inScope(scope, peeked.resource as Finding['resource']))
        table.set(peeked.fingerprint, pack(peeked));
    }
  const counts: Record<string, number> = {};
  const kinds = findings.map((finding): ViewChange => {
    if (!inScope(scope, finding.resource)) return 'none';
    const prior = table.take(finding.fingerprint);
    const kind = kindOf(prior === undefined ? undefined : unpack(prior), viewOf(finding));
    counts[kind] = (counts[kind] ?? 0) + 1;
    // kindOf never calls a current finding gone; the type allows it.
    return kind === 'gone' ? 'none' : kind;
  });
  // What is left was in scope before and is not now.
  counts.gone = table.size;
  return { from: { scanId: before.scanId, scanTime: before.scanTime }, kinds, counts };
}
