/**
 * The dashboard page: plain DOM, no framework. Every value from a scan (bucket names, rule
 * messages, policy text) is set with `textContent`, never as HTML, so nothing a bucket is
 * called can become markup or script; the server's CSP allows no inline code either.
 */

interface StatusCounts {
  PASS: number;
  FAIL: number;
  ERROR: number;
  SKIPPED: number;
}
interface Summary {
  scanId: string;
  scanTime: string;
  accountId: string;
  buckets: number;
  findings: number;
  byStatus: StatusCounts;
  failedBySeverity: Record<string, number>;
  byRule: Record<string, StatusCounts>;
  byBucket: Record<string, StatusCounts>;
  suppressed: number;
}
interface IndexEntry {
  scanId: string;
  scanTime: string;
  byStatus: StatusCounts;
}
interface Finding {
  ruleId: string;
  status: string;
  severity: string;
  message: string;
  resource: { name: string; region: string; account: string };
}
interface DriftAnswer {
  from: { scanId: string; scanTime: string } | null;
  counts: Record<string, number>;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'];
const CHANGES = ['new', 'regressed', 'unverifiable', 'resolved', 'gone', 'still-failing'];

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`/api${path}`, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

/** A row of labelled numbers (a `<dl>` of cards). */
function cards(id: string, entries: [string, number][]): void {
  const list = byId(id);
  list.replaceChildren(
    ...entries.map(([label, value]) => {
      const card = element('div');
      card.dataset.label = label;
      card.append(element('dt', label), element('dd', value.toLocaleString('en')));
      return card;
    }),
  );
}

function topList(id: string, counts: Record<string, StatusCounts>): void {
  const top = Object.entries(counts)
    .filter(([, c]) => c.FAIL > 0)
    .sort((a, b) => b[1].FAIL - a[1].FAIL || (a[0] < b[0] ? -1 : 1))
    .slice(0, 10);
  byId(id).replaceChildren(
    ...(top.length > 0
      ? top.map(([name, c]) => {
          const item = element('li');
          item.append(element('bdi', name), document.createTextNode(` — ${c.FAIL} failing`));
          return item;
        })
      : [element('li', 'nothing fails')]),
  );
}

/** FAIL and ERROR per scan, oldest first, as two lines of an SVG chart with a text fallback. */
function trend(scans: IndexEntry[]): void {
  const figure = byId('trend');
  const points = [...scans].reverse().slice(-60);
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', '0 0 600 120');
  svg.setAttribute('role', 'img');
  const max = Math.max(1, ...points.map((p) => Math.max(p.byStatus.FAIL, p.byStatus.ERROR)));
  const line = (pick: (p: IndexEntry) => number, className: string) => {
    const path = document.createElementNS(svgNs, 'polyline');
    const step = points.length > 1 ? 580 / (points.length - 1) : 0;
    path.setAttribute(
      'points',
      points.map((p, i) => `${10 + i * step},${110 - (pick(p) / max) * 100}`).join(' '),
    );
    path.setAttribute('class', className);
    svg.append(path);
  };
  line((p) => p.byStatus.FAIL, 'fail');
  line((p) => p.byStatus.ERROR, 'error');
  const caption = element(
    'figcaption',
    points.length > 0
      ? `${points.length} scan(s) from ${points[0]?.scanTime.slice(0, 10)} to ${points.at(-1)?.scanTime.slice(0, 10)}; latest ${points.at(-1)?.byStatus.FAIL} FAIL, ${points.at(-1)?.byStatus.ERROR} ERROR`
      : 'no scans',
  );
  svg.setAttribute('aria-label', caption.textContent ?? '');
  figure.replaceChildren(svg, caption);
}

let cursor: string | undefined;
let scanId = 'latest';

const FILTERS = ['status', 'severity', 'rule', 'bucket', 'q'];

/** The filters as the form holds them; the URL's hash keeps them, so a view can be shared. */
function filters(): URLSearchParams {
  const data = new FormData(byId('filters') as HTMLFormElement);
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    const value = String(data.get(key) ?? '').trim();
    if (value) query.set(key, value);
  }
  return query;
}

/** Puts the filters of a shared URL (`#status=FAIL&rule=…`) into the form. */
function restoreFilters(): void {
  const shared = new URLSearchParams(location.hash.slice(1));
  const form = byId('filters') as HTMLFormElement;
  for (const key of FILTERS) {
    const value = shared.get(key);
    const field = form.elements.namedItem(key) as HTMLInputElement | HTMLSelectElement | null;
    if (value !== null && field) field.value = value;
  }
}

async function findings(reset: boolean): Promise<void> {
  const query = filters();
  if (reset) history.replaceState(null, '', `${location.pathname}#${query}`);
  query.set('limit', '100');
  if (!reset && cursor) query.set('cursor', cursor);
  const page = await api<{ total: number; findings: Finding[]; nextCursor?: string }>(
    `/scans/${encodeURIComponent(scanId)}/findings?${query}`,
  );
  const body = byId('findings').querySelector('tbody') as HTMLTableSectionElement;
  const rows = page.findings.map((f) => {
    const row = element('tr');
    const bucket = element('td');
    bucket.append(element('bdi', f.resource.name));
    row.append(
      element('td', f.status, f.status),
      element('td', f.severity),
      bucket,
      element('td', f.ruleId),
      element('td', f.message),
    );
    return row;
  });
  if (reset) body.replaceChildren(...rows);
  else body.append(...rows);
  cursor = page.nextCursor;
  byId('findings-count').textContent =
    `${body.rows.length} of ${page.total.toLocaleString('en')} shown`;
  (byId('more') as HTMLButtonElement).hidden = cursor === undefined;
}

async function main(): Promise<void> {
  const index = await api<{ latest: string | null; scans: IndexEntry[] }>('/scans?limit=500');
  if (!index.latest) {
    byId('scan').textContent = 'No scans in this store yet: run s3scan scan (or npm start).';
    return;
  }
  scanId = index.latest;
  const summary = await api<Summary>(`/scans/${encodeURIComponent(scanId)}/summary`);
  byId('scan').textContent =
    `Account ${summary.accountId} · scan ${summary.scanId} · ${summary.scanTime} · ${summary.buckets} buckets`;
  cards('posture', [
    ['FAIL', summary.byStatus.FAIL],
    ['ERROR', summary.byStatus.ERROR],
    ['PASS', summary.byStatus.PASS],
    ['SKIPPED', summary.byStatus.SKIPPED],
    ['suppressed', summary.suppressed],
  ]);
  cards(
    'severity',
    SEVERITIES.map((s) => [s, summary.failedBySeverity[s] ?? 0]),
  );
  topList('top-rules', summary.byRule);
  const rules = byId('filters').querySelector('select[name="rule"]') as HTMLSelectElement;
  rules.append(
    ...Object.keys(summary.byRule)
      .sort()
      .map((rule) => {
        const option = element('option', rule);
        option.value = rule;
        return option;
      }),
  );
  restoreFilters();
  topList('top-buckets', summary.byBucket);
  trend(index.scans);
  const drift = await api<DriftAnswer>(`/scans/${encodeURIComponent(scanId)}/drift`);
  byId('drift-line').textContent = drift.from
    ? `Compared with ${drift.from.scanId} (${drift.from.scanTime.slice(0, 10)})`
    : 'The first scan of this scope: nothing to compare with yet.';
  cards(
    'drift',
    CHANGES.map((k) => [k, drift.counts[k] ?? 0]),
  );
  byId('filters').addEventListener('change', () => {
    void findings(true);
  });
  byId('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    void findings(true);
  });
  byId('more').addEventListener('click', () => {
    void findings(false);
  });
  await findings(true);
  document.body.dataset.ready = 'true';
}

main().catch((error: unknown) => {
  byId('scan').textContent = `The dashboard could not load: ${(error as Error).message}`;
  document.body.dataset.ready = 'error';
});
