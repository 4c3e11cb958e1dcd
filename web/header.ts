import type { ScanList } from './api.js';
import { byId } from './dom.js';
import type { View } from './router.js';

/** What a scan of a subset looked at, for its header; '' for a scan of the whole account. */
export function subsetWords(scope: ScanList['scans'][number]['scope']): string {
  if (!scope || (scope.buckets.length === 0 && scope.regions.length === 0)) return '';
  const parts = [
    scope.buckets.length ? `buckets ${scope.buckets.join(', ')}` : '',
    scope.regions.length ? `regions ${scope.regions.join(', ')}` : '',
  ].filter(Boolean);
  return ` · a scan of a subset (${parts.join('; ')}), not of the whole account`;
}

/** The header line of a view other than the overview, from the scan history. */
export function headerLine(list: ScanList, scanId: string, view: View): void {
  const line = byId('scan');
  if (!list.latest) {
    line.textContent = 'No scans in this store yet: run s3scan scan (or npm start).';
    return;
  }
  if (view === 'scans') {
    line.textContent = `${list.scans.length.toLocaleString('en')} scan${list.scans.length === 1 ? '' : 's'} in this store · latest ${list.latest}`;
    return;
  }
  const id = scanId === 'latest' ? list.latest : scanId;
  const entry = list.scans.find((s) => s.scanId === id);
  line.textContent = entry
    ? `Account ${entry.accountId} · scan ${entry.scanId} · ${entry.scanTime} · ${entry.buckets} buckets${entry.scanId === list.latest ? '' : ' · not the latest scan'}${subsetWords(entry.scope)}`
    : `Scan ${id}`;
}
