/**
 * The dashboard page: plain DOM, no framework. Four views, chosen by the URL's hash so any
 * view can be shared: the dashboard (overview and findings), a bucket's detail, compliance
 * per framework, and the scan history with a compare view. Scanned text is only ever set as
 * text (see dom.ts).
 */
import {
  api,
  apiUrl,
  configureApi,
  type Drift,
  download,
  type FindingsPage,
  type Overview,
  type PostureMode,
  type ScanList,
  scanPath,
  setPosture,
  withPosture,
} from './api.js';
import {
  accessToken,
  forgetLocalToken,
  forgetToken,
  loadPageConfig,
  localToken,
  startLogin,
} from './auth.js';
import { showBucket } from './bucket.js';
import { showCompliance } from './compliance.js';
import {
  assuranceLabel,
  bidi,
  byId,
  cards,
  carryInLinks,
  element,
  formatBytes,
  formatCount,
  hashLink,
} from './dom.js';
import { showScans } from './scans.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'];
const CHANGES = ['new', 'regressed', 'unverifiable', 'resolved', 'gone', 'still-failing'];
/** The findings filters, as the form, the API and the URL's hash name them. */
const FILTERS = ['status', 'severity', 'change', 'rule', 'account', 'region', 'bucket', 'q'];
const SORTABLE: Record<string, string> = {
  Status: 'status',
  Severity: 'severity',
  Bucket: 'bucket',
  Rule: 'rule',
  Change: 'change',
};
const VIEWS = ['dashboard', 'bucket', 'compliance', 'scans'] as const;
type View = (typeof VIEWS)[number];

/** What the page shows, from the hash: `#view=bucket&name=…`, `#status=FAIL&rule=…`. */
function route(): { view: View; params: URLSearchParams } {
  const params = new URLSearchParams(location.hash.slice(1));
  const view = params.get('view') as View | null;
  return { view: view && VIEWS.includes(view) ? view : 'dashboard', params };
}

/**
 * The posture shown: `posture=` in the hash, else the posture now for the latest scan (what an
 * engineer opening the dashboard asks: how do things stand) and the scan itself when the hash
 * names one (a shared link keeps showing what it showed).
 */
function postureMode(params: URLSearchParams): PostureMode {
  const asked = params.get('posture');
  if (asked === 'now' || asked === 'scan') return asked;
  return params.has('scan') ? 'scan' : 'now';
}

/** The scan history, asked for once, at the start, alongside the first view's requests. */
let scans: Promise<ScanList> = Promise.resolve({ latest: null, scans: [] });
/** The scan the views show: `scan=` in the hash, else the latest (the API knows `latest`). */
const currentScan = (params: URLSearchParams) => params.get('scan') ?? 'latest';

let cursor: string | undefined;
let sort = { key: 'priority', order: 'asc' };

function fillOptions(name: string, values: string[]): void {
  const select = byId('filters').querySelector(`select[name="${name}"]`) as HTMLSelectElement;
  const keep = select.options[0] as HTMLOptionElement;
  const selected = select.value;
  if (selected && !values.includes(selected)) values.push(selected);
  select.replaceChildren(
    keep,
    ...values.sort().map((value) => {
      const option = element('option', value);
      option.value = value;
      return option;
    }),
  );
  select.value = selected;
}

/** The filters as the form holds them. */
function filters(): URLSearchParams {
  const data = new FormData(byId('filters') as HTMLFormElement);
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    const value = String(data.get(key) ?? '').trim();
    if (value) query.set(key, value);
  }
  if (sort.key !== 'priority') query.set('sort', sort.key);
  if (sort.order !== 'asc') query.set('order', sort.order);
  return query;
}

/** Puts the filters of a shared URL into the form. */
function restoreFilters(params: URLSearchParams): void {
  const form = byId('filters') as HTMLFormElement;
  for (const key of FILTERS) {
    const field = form.elements.namedItem(key) as HTMLInputElement | HTMLSelectElement | null;
    if (!field) continue;
    const value = params.get(key);
    if (value === null) continue;
    // A shared value the select does not offer (a rule list from compliance) is added.
    if (field instanceof HTMLSelectElement && ![...field.options].some((o) => o.value === value)) {
      const option = element('option', value);
      option.value = value;
      field.append(option);
    }
    field.value = value;
  }
  sort = { key: params.get('sort') ?? 'priority', order: params.get('order') ?? 'asc' };
}

function renderSortButtons(): void {
  for (const th of byId('findings').querySelectorAll('thead th')) {
    const label = th.getAttribute('data-label') ?? '';
    const key = SORTABLE[label];
    if (!key) continue;
    th.setAttribute(
      'aria-sort',
      sort.key === key ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none',
    );
    const button = th.querySelector('button') as HTMLButtonElement;
    button.textContent = `${label}${sort.key === key ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''}`;
  }
}

async function findings(scanId: string, reset: boolean): Promise<void> {
  const query = withPosture(filters());
  if (reset) {
    const hash = filters();
    if (scanId !== 'latest') hash.set('scan', scanId);
    const asked = route().params.get('posture');
    if (asked) hash.set('posture', asked);
    history.replaceState(null, '', `${location.pathname}#${hash}`);
  }
  renderSortButtons();
  const exportQuery = new URLSearchParams(query);
  for (const format of ['csv', 'json', 'ocsf']) {
    exportQuery.set('format', format);
    (byId(`export-${format}`) as HTMLAnchorElement).href = apiUrl(
      `${scanPath(scanId, 'export')}?${exportQuery}`,
    );
  }
  query.set('limit', '100');
  if (!reset && cursor) query.set('cursor', cursor);
  const body = byId('findings').querySelector('tbody') as HTMLTableSectionElement;
  let page: FindingsPage;
  try {
    page = await api<FindingsPage>(`${scanPath(scanId, 'findings')}?${query}`);
  } catch (error) {
    byId('findings-count').textContent = (error as Error).message;
    body.replaceChildren();
    return;
  }
  // Links name the scan itself, never `latest`, so a shared link keeps showing what it showed.
  const shown = page.scanId ?? scanId;
  const rows = page.findings.map((f, i) => {
    const row = element('tr');
    const bucket = element('td');
    bucket.append(
      hashLink(
        {
          view: 'bucket',
          scan: shown,
          name: f.resource.name,
          account: f.resource.account,
          region: f.resource.region,
        },
        bidi(f.resource.name),
      ),
    );
    const change = page.changes?.[i] === 'none' ? '' : (page.changes?.[i] ?? '');
    // The posture now: a rescanned bucket's findings say which rescan they are from.
    const seen = page.seen?.[i];
    const rescanned = seen && seen.scanId !== shown ? seen : undefined;
    if (rescanned) row.dataset.rescan = rescanned.scanId;
    const status = element('td', f.status, f.status);
    // A verdict on a sample or an inventory says so beside its status.
    const seenPart = assuranceLabel(f.assurance);
    if (seenPart) status.append(element('small', seenPart, 'assurance'));
    row.append(
      status,
      element('td', f.severity),
      bucket,
      element('td', f.ruleId),
      element('td', f.message),
      element(
        'td',
        rescanned
          ? `${change ? `${change} · ` : ''}rescan ${rescanned.scanTime.slice(0, 16).replace('T', ' ')}`
          : change,
      ),
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

/** FAIL and ERROR per scan, oldest first, as two lines of an SVG chart with a text fallback. */
function trend(list: ScanList['scans']): void {
  const figure = byId('trend');
  const points = [...list].reverse().slice(-60);
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', '0 0 600 120');
  svg.setAttribute('role', 'img');
  const max = Math.max(1, ...points.map((p) => Math.max(p.byStatus.FAIL, p.byStatus.ERROR)));
  const line = (pick: (p: (typeof points)[number]) => number, className: string) => {
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
  const last = points.at(-1);
  const caption = element(
    'figcaption',
    last
      ? `${points.length} scan(s) from ${points[0]?.scanTime.slice(0, 10)} to ${last.scanTime.slice(0, 10)}; latest ${last.byStatus.FAIL} FAIL (red), ${last.byStatus.ERROR} ERROR (amber)`
      : 'no scans',
  );
  svg.setAttribute('aria-label', caption.textContent ?? '');
  figure.replaceChildren(svg, caption);
}

function topRules(overview: Overview, scanId: string): void {
  const top = Object.entries(overview.byRule)
    .filter(([, c]) => c.FAIL > 0)
    .sort((a, b) => b[1].FAIL - a[1].FAIL || (a[0] < b[0] ? -1 : 1))
    .slice(0, 10);
  byId('top-rules').replaceChildren(
    ...(top.length > 0
      ? top.map(([rule, c]) => {
          const item = element('li');
          item.append(
            hashLink({ scan: scanId, status: 'FAIL', rule }, rule),
            ` — ${formatCount(c.FAIL)} failing`,
          );
          return item;
        })
      : [element('li', 'nothing fails')]),
  );
}

function topBuckets(overview: Overview, scanId: string): void {
  byId('top-buckets').replaceChildren(
    ...(overview.topBuckets.length > 0
      ? overview.topBuckets.slice(0, 10).map((b) => {
          const item = element('li');
          item.append(
            hashLink(
              { view: 'bucket', scan: scanId, name: b.name, account: b.account, region: b.region },
              bidi(b.name),
            ),
            ` — ${b.FAIL} failing${b.worst ? ` (worst: ${b.worst})` : ''}${b.ERROR ? `, ${b.ERROR} unverifiable` : ''}`,
          );
          return item;
        })
      : [element('li', 'nothing fails')]),
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
  const entry = (label: string, r: typeof risk.unencrypted): [string, string] => [
    label,
    `${formatCount(r.count)} · ${formatBytes(r.bytes)} · ${formatCount(r.buckets)} bucket(s)`,
  ];
  cards('risk', [
    entry('unencrypted', risk.unencrypted),
    entry('SSE-C', risk.sseC),
    entry('unusable KMS key', risk.unusableKey),
  ]);
}

async function showDashboard(params: URLSearchParams): Promise<void> {
  const requested = currentScan(params);
  restoreFilters(params);
  cursor = undefined;
  // The overview, the first page of findings and the history are asked for at once.
  const [list, overview] = await Promise.all([
    scans,
    api<Overview>(`${scanPath(requested, 'overview')}?${withPosture()}`).catch(
      (error: Error) => error,
    ),
    findings(requested, true),
  ]);
  if (!list.latest) {
    byId('scan').textContent = 'No scans in this store yet: run s3scan scan (or npm start).';
    return;
  }
  if (overview instanceof Error) throw overview;
  const scanId = overview.scanId;
  const rescans = overview.posture?.rescans.length ?? 0;
  byId('scan').textContent =
    `Account ${overview.accountId} · scan ${overview.scanId} · ${overview.scanTime} · ${overview.buckets} buckets${scanId === list.latest ? '' : ' · not the latest scan'}${overview.shows === 'now' ? ` · posture now, with ${rescans} rescan${rescans === 1 ? '' : 's'} since` : ''}`;
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
  cards(
    'severity',
    SEVERITIES.map((s) => [
      s,
      formatCount(overview.failedBySeverity[s as keyof typeof overview.failedBySeverity] ?? 0),
      { scan: scanId, status: 'FAIL', severity: s },
    ]),
  );
  objectsAtRisk(overview);
  topRules(overview, scanId);
  topBuckets(overview, scanId);
  // Rescans are scoped: as points of the trend they would read as sudden drops.
  trend(list.scans.filter((s) => !s.rescanOf));
  fillOptions('rule', Object.keys(overview.byRule));
  fillOptions('account', Object.keys(overview.byAccount));
  fillOptions('region', Object.keys(overview.byRegion));
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
  cards(
    'drift',
    CHANGES.map((k): [string, string, Record<string, string>?] => {
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

/** Export links download through the API client (the deployed API needs its token). */
function wireExports(): void {
  for (const format of ['csv', 'json', 'ocsf']) {
    const link = byId(`export-${format}`) as HTMLAnchorElement;
    link.addEventListener('click', (event) => {
      event.preventDefault();
      const url = new URL(link.href);
      const path = `${url.pathname.replace(/^.*?(?=\/scans\/)/, '')}${url.search}`;
      download(path, `s3scan-findings.${format === 'ocsf' ? 'ocsf.json' : format}`).catch(
        (error: Error) => {
          byId('findings-count').textContent = `Export failed: ${error.message}`;
        },
      );
    });
  }
}

function wireFindings(): void {
  const refresh = () => {
    void findings(currentScan(route().params), true);
  };
  byId('filters').addEventListener('change', refresh);
  byId('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    refresh();
  });
  byId('more').addEventListener('click', () => {
    void findings(currentScan(route().params), false);
  });
  for (const th of byId('findings').querySelectorAll('thead th')) {
    const label = th.textContent ?? '';
    th.setAttribute('data-label', label);
    if (!SORTABLE[label]) continue;
    const button = element('button', label, 'sort');
    button.type = 'button';
    button.addEventListener('click', () => {
      const key = SORTABLE[label] as string;
      sort =
        sort.key === key
          ? { key, order: sort.order === 'asc' ? 'desc' : 'asc' }
          : { key, order: 'asc' };
      refresh();
    });
    th.replaceChildren(button);
  }
}

/** The header line of a view other than the overview, from the scan history. */
function headerLine(list: ScanList, scanId: string, view: View): void {
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
    ? `Account ${entry.accountId} · scan ${entry.scanId} · ${entry.scanTime} · ${entry.buckets} buckets${entry.scanId === list.latest ? '' : ' · not the latest scan'}`
    : `Scan ${id}`;
}

/** Shows the view the hash names; each view fills its own section. */
async function render(): Promise<void> {
  const { view, params } = route();
  document.body.dataset.ready = 'false';
  for (const name of VIEWS) byId(`${name}-view`).hidden = name !== view;
  for (const link of document.querySelectorAll('nav a'))
    if (link.getAttribute('data-view') === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  const scanId = currentScan(params);
  const mode = postureMode(params);
  setPosture(mode);
  // Links keep the posture shown; a link naming a scan otherwise shows the scan as stored.
  carryInLinks({ posture: mode === 'now' || params.has('posture') ? mode : undefined });
  try {
    // The overview writes its own header line; a link straight to another view gets one too.
    if (view !== 'dashboard') headerLine(await scans, scanId, view);
    if (view === 'dashboard') await showDashboard(params);
    else if (view === 'bucket') await showBucket(scanId, params);
    else if (view === 'compliance') await showCompliance(scanId);
    else await showScans(await scans, params);
    document.body.dataset.ready = 'true';
    // The first complete render, for the page benchmark (bench/dashboard-page.ts).
    if (performance.getEntriesByName('s3scan:ready').length === 0) performance.mark('s3scan:ready');
  } catch (error) {
    const line = byId('scan');
    line.textContent = `The dashboard could not load: ${(error as Error).message}`;
    // The posture now reads every rescan since the scan; the scan as stored reads none of them.
    if (mode === 'now') {
      const asStored = Object.fromEntries(params);
      line.append(' ', hashLink({ ...asStored, posture: 'scan' }, 'Show the scan as stored'));
    }
    document.body.dataset.ready = 'error';
  }
}

const NEEDS_TOKEN =
  'This dashboard needs its access token: open the URL s3scan printed (Dashboard: http://127.0.0.1:…/?token=…).';

async function main(): Promise<void> {
  // Deployed, the page logs in first (PKCE); locally with the token s3scan printed.
  const config = await loadPageConfig();
  if (!config) {
    // Without its token the page has nothing to show: only the sentence saying what to open.
    const locked = () => {
      byId('scan').textContent = NEEDS_TOKEN;
      document.body.dataset.auth = 'missing';
      document.body.dataset.ready = 'error';
    };
    const token = localToken();
    if (!token) return locked();
    configureApi({
      base: '/api',
      token,
      onUnauthorised: () => {
        forgetLocalToken();
        locked();
      },
    });
  } else {
    const token = await accessToken(config);
    if (!token) await startLogin(config);
    configureApi({
      base: config.api,
      ...(token ? { token } : {}),
      onUnauthorised: () => {
        forgetToken();
        void startLogin(config);
      },
    });
  }
  scans = api<ScanList>('/scans?limit=500');
  wireFindings();
  wireExports();
  // Links inside the page change the hash; the hash is the state.
  window.addEventListener('hashchange', () => {
    void render();
  });
  await render();
}

main().catch((error: unknown) => {
  byId('scan').textContent = `The dashboard could not load: ${(error as Error).message}`;
  document.body.dataset.ready = 'error';
});
