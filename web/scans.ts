import { CHANGE_KINDS } from '../lib/history/drift.js';
import { api, type Drift, type ScanList, scanPath } from './api.js';
import { bidi, byId, cards, element, formatCount, hashLink, table } from './dom.js';

function scanSelect(name: string, list: ScanList, selected: string): HTMLLabelElement {
  const label = element('label', name === 'from' ? 'From ' : 'To ');
  const select = element('select');
  select.name = name;
  for (const scan of list.scans) {
    const option = element('option', `${scan.scanTime} · ${scan.scanId}`);
    option.value = scan.scanId;
    option.selected = scan.scanId === selected;
    select.append(option);
  }
  label.append(select);
  return label;
}

async function compare(from: string, to: string, into: HTMLElement): Promise<void> {
  const drift = await api<Drift>(`${scanPath(to, 'drift')}?from=${encodeURIComponent(from)}`);
  const counts = element('dl', undefined, 'cards');
  counts.id = 'compare-counts';
  into.replaceChildren(
    element('h3', `What changed from ${from} to ${to}`),
    counts,
    ...CHANGE_KINDS.filter((k) => (drift.changes?.[k]?.length ?? 0) > 0).map((kind) => {
      const list = drift.changes?.[kind] ?? [];
      const shown = list.length < (drift.counts[kind] ?? 0) ? ` (first ${list.length})` : '';
      const changes = table(
        ['Bucket', 'Rule', 'Before', 'After'],
        list.map((c) => [
          bidi(c.bucket),
          c.ruleId,
          c.before ? `${c.before.status} ${c.before.severity}` : '—',
          c.after ? `${c.after.status} ${c.after.severity}` : '—',
        ]),
        `${kind}${shown}`,
      );
      if (kind !== 'still-failing') return changes;
      // What did not change is collapsed: the view is about the changes.
      const details = element('details');
      details.append(
        element(
          'summary',
          `${formatCount(drift.counts[kind] ?? 0)} still failing, unchanged: show them`,
        ),
        changes,
      );
      return details;
    }),
  );
  cards(
    'compare-counts',
    CHANGE_KINDS.map((k) => [k, formatCount(drift.counts[k] ?? 0)]),
  );
}

/** The scan history, and a compare view for any two scans (`from`, `to` in the hash). */
export async function showScans(list: ScanList, params: URLSearchParams): Promise<void> {
  const view = byId('scans-view');
  const to = params.get('to') ?? list.scans[0]?.scanId ?? '';
  const from = params.get('from') ?? list.scans[1]?.scanId ?? to;
  const form = element('form');
  form.id = 'compare';
  form.setAttribute('aria-label', 'Compare two scans');
  const button = element('button', 'Compare');
  button.type = 'submit';
  form.append(scanSelect('from', list, from), scanSelect('to', list, to), button);
  const result = element('div');
  result.id = 'compare-result';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    location.hash = `#${new URLSearchParams({ view: 'scans', from: String(data.get('from')), to: String(data.get('to')) })}`;
  });
  view.replaceChildren(
    element('h2', 'Scans'),
    table(
      ['Time', 'Scan', 'Scope', 'FAIL', 'ERROR', 'PASS'],
      list.scans.map((s) => [
        s.scanTime,
        // The history lists scans as stored: each opens as it was.
        hashLink({ scan: s.scanId, posture: 'scan' }, s.scanId),
        // A rescan says so, and which full scan it updates.
        `${s.rescanOf ? `rescan of ${s.rescanOf}: ` : ''}${
          s.scope && (s.scope.buckets.length > 0 || s.scope.regions.length > 0)
            ? [...s.scope.buckets, ...s.scope.regions].join(', ')
            : 'whole account'
        }`,
        formatCount(s.byStatus.FAIL),
        formatCount(s.byStatus.ERROR),
        formatCount(s.byStatus.PASS),
      ]),
      `${list.scans.length} scan(s), newest first`,
    ),
    element('h2', 'Compare two scans'),
    form,
    result,
  );
  if (from && to && list.scans.length > 1) await compare(from, to, result);
}
