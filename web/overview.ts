/** The overview panels: how the scan (or the posture now) stands, and what changed. */
import { SEVERITIES } from '../lib/engine/types.js';
import { CHANGE_KINDS } from '../lib/history/drift.js';
import {
  api,
  type Drift,
  type Overview,
  type PostureMode,
  type ScanList,
  scanPath,
  withPosture,
} from './api.js';
import { bars, bidi, byId, cards, element, formatBytes, formatCount, hashLink } from './dom.js';
import type { FindingsTable } from './findings-table.js';
import { subsetWords } from './header.js';
import { currentScan } from './router.js';
import { trend } from './trend.js';

/**
 * The overview: the header line, the posture and severity cards, objects at risk, the top
 * rules and buckets, the trend, the drift cards and the findings table, for the scan and the
 * posture the hash names.
 */
export async function showOverview(
  params: URLSearchParams,
  scans: Promise<ScanList>,
  table: FindingsTable,
  posture: PostureMode,
): Promise<void> {
  const requested = currentScan(params);
  table.restore(params);
  // The overview, the first page of findings and the history are asked for at once.
  const [list, overview] = await Promise.all([
    scans,
    api<Overview>(`${scanPath(requested, 'overview')}?${withPosture(posture)}`).catch(
      (error: Error) => error,
    ),
    table.load(true),
  ]);
  // An empty store, or a folder that is not one, is a state page of its own (state.ts).
  if (overview instanceof Error) throw overview;
  const scanId = overview.scanId;
  const rescans = overview.posture?.rescans.length ?? 0;
  byId('scan').textContent =
    `Account ${overview.accountId} · scan ${overview.scanId} · ${overview.scanTime} · ${overview.buckets} buckets${scanId === list.latest ? '' : ' · not the latest scan'}${overview.shows === 'now' ? ` · posture now, with ${rescans} rescan${rescans === 1 ? '' : 's'} since` : ''}${subsetWords(list.scans.find((s) => s.scanId === scanId)?.scope)}`;
  const status = (label: string, value: number): [string, string, Record<string, string>] => [
    label,
    formatCount(value),
    { scan: scanId, status: label },
  ];
  cards('posture', [
    status('FAIL', overview.byStatus.FAIL),
    status('ERROR', overview.byStatus.ERROR),
    status('PASS', overview.byStatus.PASS),
    status('SKIPPED', overview.byStatus.SKIPPED),
    ['suppressed', formatCount(overview.suppressed)],
  ]);
  // Rescans since this scan: the posture now, each rescanned bucket as its newest rescan saw it.
  postureLine(overview, scanId);
  bars(
    'severity',
    SEVERITIES.map((s) => {
      const count = overview.failedBySeverity[s as keyof typeof overview.failedBySeverity] ?? 0;
      return [s, count, formatCount(count), { scan: scanId, status: 'FAIL', severity: s }];
    }),
  );
  indexNote(overview);
  objectsAtRisk(overview);
  topRules(overview, scanId);
  topBuckets(overview, scanId);
  // Rescans are scoped: as points of the trend they would read as sudden drops.
  trend(list.scans.filter((s) => !s.rescanOf));
  table.fillOptions('rule', Object.keys(overview.byRule));
  table.fillOptions('account', Object.keys(overview.byAccount));
  table.fillOptions('region', Object.keys(overview.byRegion));
  const drift =
    overview.drift ?? (await api<Drift>(scanPath(scanId, 'drift')).catch(() => undefined));
  byId('drift-line').textContent = overview.changesUnavailable
    ? `The previous scan could not be compared with: ${overview.changesUnavailable}`
    : drift?.from
      ? `Compared with ${drift.from.scanId} (${drift.from.scanTime.slice(0, 10)})${overview.shows === 'now' ? ': the scan’s own changes; a rescanned bucket’s findings show theirs, since the look before, in the table' : ''}`
      : 'The first scan of this scope: nothing to compare with yet.';
  const driftLink = (kind: string): Record<string, string> | undefined => {
    if (!drift?.from || !overview.indexed) return undefined;
    // Gone findings are in the previous scan only: the compare view lists them.
    return kind === 'gone'
      ? { view: 'scans', from: drift.from.scanId, to: scanId }
      : // The scan's own changes: its findings as stored are the ones they count.
        { scan: scanId, status: '', change: kind, posture: 'scan' };
  };
  headline(overview, scanId, drift, driftLink);
  cards(
    'drift',
    CHANGE_KINDS.map((k): [string, string, Record<string, string>?] => {
      const link = driftLink(k);
      const value = formatCount(drift?.counts[k] ?? 0);
      return link ? [k, value, link] : [k, value];
    }),
  );
}

/** What the counts above are, and the switch between the posture now and the scan as stored. */
function postureLine(overview: Overview, scanId: string): void {
  const line = byId('posture-now');
  const posture = overview.posture;
  if (!posture) {
    line.replaceChildren();
    return;
  }
  const counts = (c: typeof posture.byStatus) =>
    `${formatCount(c.FAIL)} FAIL, ${formatCount(c.ERROR)} ERROR, ${formatCount(c.PASS)} PASS`;
  const rescans = `${posture.rescans.length} rescan${posture.rescans.length === 1 ? '' : 's'}`;
  const buckets = `${posture.buckets} bucket${posture.buckets === 1 ? '' : 's'}`;
  const latest = posture.rescans.at(-1)?.scanTime ?? '';
  if (overview.shows === 'now')
    line.replaceChildren(
      `The posture now: ${rescans} since this scan re-read ${buckets}, each shown as its newest rescan saw it (latest ${latest}). As scanned: ${counts(posture.scanned)}. `,
      hashLink({ scan: scanId, posture: 'scan' }, 'Show the scan as it was'),
    );
  else
    line.replaceChildren(
      `The scan as it was. Now, with ${rescans} since (${buckets} re-read, the newest scan of each bucket wins): ${counts(posture.byStatus)}. `,
      hashLink({ scan: scanId, posture: 'now' }, 'Show the posture now'),
    );
}

function topRules(overview: Overview, scanId: string): void {
  const top = Object.entries(overview.byRule)
    .filter(([, c]) => c.FAIL > 0)
    .sort((a, b) => b[1].FAIL - a[1].FAIL || (a[0] < b[0] ? -1 : 1))
    .slice(0, 10);
  topList(
    'top-rules',
    top.map(([rule, c]) => [
      hashLink({ scan: scanId, status: 'FAIL', rule }, rule),
      ` — ${formatCount(c.FAIL)} failing`,
    ]),
    'rules',
  );
}

function topBuckets(overview: Overview, scanId: string): void {
  topList(
    'top-buckets',
    overview.topBuckets
      .slice(0, 10)
      .map((b) => [
        hashLink(
          { view: 'bucket', scan: scanId, name: b.name, account: b.account, region: b.region },
          bidi(b.name),
        ),
        ` — ${b.FAIL} failing${b.worst ? ` (worst: ${b.worst})` : ''}${b.ERROR ? `, ${b.ERROR} unverifiable` : ''}`,
      ]),
    'buckets',
  );
}

/** Entries shown at first in each "fix first" list; the rest open on request. */
const TOP_SHOWN = 5;

/**
 * A ranked list: its first {@link TOP_SHOWN} entries, then the rest of the ten in a
 * details element that continues the numbering.
 */
function topList(id: string, entries: (Node | string)[][], what: string): void {
  const item = (parts: (Node | string)[]) => {
    const li = element('li');
    li.append(...parts);
    return li;
  };
  const list = byId(id);
  list.replaceChildren(
    ...(entries.length > 0
      ? entries.slice(0, TOP_SHOWN).map(item)
      : [element('li', 'nothing fails')]),
  );
  const more = byId(`${id}-more`);
  more.replaceChildren();
  more.hidden = entries.length <= TOP_SHOWN;
  if (entries.length <= TOP_SHOWN) return;
  const rest = element('ol');
  rest.start = TOP_SHOWN + 1;
  rest.append(...entries.slice(TOP_SHOWN).map(item));
  more.append(element('summary', `${entries.length - TOP_SHOWN} more ${what}`), rest);
}

/** A scan stored before the findings index: what the page cannot show, and how to index it. */
function indexNote(overview: Overview): void {
  const note = byId('index-note');
  note.hidden = overview.reindex === undefined;
  if (overview.reindex === undefined) {
    note.replaceChildren();
    return;
  }
  note.replaceChildren(
    'This scan was stored before s3scan kept a findings index: its counts come from summary.json, each page of findings reads the whole findings file, and objects at risk and the changes of each finding are not shown. To index it, judge its evidence again into a new scan: ',
    element('code', overview.reindex),
  );
}

function objectsAtRisk(overview: Overview): void {
  const risk = overview.objectsAtRisk;
  const note = byId('risk-line');
  if (!risk) {
    note.textContent = overview.indexed
      ? 'No bucket’s objects were scanned: run s3scan scan --objects sample, full or inventory to count them.'
      : 'This scan was stored before the findings index: objects at risk are not counted.';
    byId('risk').replaceChildren();
    return;
  }
  note.textContent = `From the objects of ${formatCount(risk.scannedBuckets)} scanned bucket(s), current and noncurrent versions.`;
  const entry = (label: string, r: typeof risk.unencrypted): [string, number, string] => [
    label,
    r.count,
    `${formatCount(r.count)} · ${formatBytes(r.bytes)} · ${formatCount(r.buckets)} bucket(s)`,
  ];
  bars('risk', [
    entry('unencrypted', risk.unencrypted),
    entry('SSE-C', risk.sseC),
    entry('unusable KMS key', risk.unusableKey),
  ]);
}

/**
 * The first line of the overview, how the account stands: what fails and how badly, the share
 * of judged checks that pass, what could not be verified, and what changed since the scan
 * before. Every number links to the findings behind it.
 */
function headline(
  overview: Overview,
  scanId: string,
  drift: { from: { scanTime: string } | null; counts: Record<string, number> } | undefined,
  driftLink: (kind: string) => Record<string, string> | undefined,
): void {
  const { FAIL, ERROR, PASS } = overview.byStatus;
  const judged = FAIL + PASS;
  const link = (params: Record<string, string> | undefined, text: string) =>
    params ? hashLink(params, text) : text;
  const parts: (Node | string)[] = [];
  parts.push(link({ scan: scanId, status: 'FAIL' }, `${formatCount(FAIL)} failing`));
  const bySeverity = SEVERITIES.filter(
    (s) => (overview.failedBySeverity[s as keyof typeof overview.failedBySeverity] ?? 0) > 0,
  );
  if (bySeverity.length > 0) {
    parts.push(' (');
    bySeverity.forEach((s, i) => {
      if (i > 0) parts.push(', ');
      const count = overview.failedBySeverity[s as keyof typeof overview.failedBySeverity] ?? 0;
      const item = element('span', '', `sev sev-${s}`);
      item.append(
        link({ scan: scanId, status: 'FAIL', severity: s }, `${formatCount(count)} ${s}`),
      );
      parts.push(item);
    });
    parts.push(')');
  }
  parts.push(
    `; ${judged > 0 ? `${Math.round((100 * PASS) / judged)} %` : 'none'} of ${formatCount(judged)} judged checks pass`,
  );
  if (ERROR > 0)
    parts.push(
      ', ',
      link({ scan: scanId, status: 'ERROR' }, `${formatCount(ERROR)} could not be verified`),
    );
  parts.push('.');
  if (drift?.from) {
    const changes = (['new', 'regressed', 'resolved'] as const).filter(
      (k) => (drift.counts[k] ?? 0) > 0,
    );
    parts.push(` Since ${drift.from.scanTime.slice(0, 10)}: `);
    if (changes.length === 0) parts.push('no new, regressed or resolved finding.');
    changes.forEach((k, i) => {
      if (i > 0) parts.push(', ');
      parts.push(link(driftLink(k), `${formatCount(drift.counts[k] ?? 0)} ${k}`));
    });
    if (changes.length > 0) parts.push('.');
  }
  byId('headline').replaceChildren(...parts);
}
