/**
 * The findings table of the overview: its filter form, sort buttons, pages ("more") and export
 * links. Its state (the page cursor and the sort) is its own, in one instance.
 */
import {
  api,
  apiUrl,
  download,
  type FindingsPage,
  type PostureMode,
  scanPath,
  withPosture,
} from './api.js';
import { assuranceLabel, bidi, byId, element, hashLink, severityBadge } from './dom.js';

/** The findings filters, as the form, the API and the URL's hash name them. */
const FILTERS = ['status', 'severity', 'change', 'rule', 'account', 'region', 'bucket', 'q'];
const SORTABLE: Record<string, string> = {
  Status: 'status',
  Severity: 'severity',
  Bucket: 'bucket',
  Rule: 'rule',
  Change: 'change',
};
const EXPORTS = ['csv', 'json', 'ocsf'];
/** Rows shown before Show more. */
const FIRST_PAGE = 10;
/** The table's columns, as index.html heads them. */
const COLUMNS = ['Status', 'Severity', 'Bucket', 'Rule', 'Why', 'Change'];

/** Where the table is shown: the scan, the posture, and the hash's own posture choice. */
export interface TableScope {
  scanId: string;
  posture: PostureMode;
  /** `posture=` as the hash says it, kept in the hash the table rewrites. */
  askedPosture: string | null;
}

export class FindingsTable {
  private cursor: string | undefined;
  private sort = { key: 'priority', order: 'asc' };

  /** `scope` answers where the table is shown whenever it reloads. */
  public constructor(private readonly scope: () => TableScope) {}

  /** The filter form's list of a field, keeping what is selected. */
  public fillOptions(name: string, values: string[]): void {
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
  private filters(): URLSearchParams {
    const data = new FormData(byId('filters') as HTMLFormElement);
    const query = new URLSearchParams();
    for (const key of FILTERS) {
      const value = String(data.get(key) ?? '').trim();
      if (value) query.set(key, value);
    }
    if (this.sort.key !== 'priority') query.set('sort', this.sort.key);
    if (this.sort.order !== 'asc') query.set('order', this.sort.order);
    return query;
  }

  /** Puts the filters of a shared URL into the form, and starts from the first page. */
  public restore(params: URLSearchParams): void {
    const form = byId('filters') as HTMLFormElement;
    for (const key of FILTERS) {
      const field = form.elements.namedItem(key) as HTMLInputElement | HTMLSelectElement | null;
      if (!field) continue;
      const value = params.get(key);
      if (value === null) continue;
      // A shared value the select does not offer (a rule list from compliance) is added.
      if (
        field instanceof HTMLSelectElement &&
        ![...field.options].some((o) => o.value === value)
      ) {
        const option = element('option', value);
        option.value = value;
        field.append(option);
      }
      field.value = value;
    }
    this.sort = { key: params.get('sort') ?? 'priority', order: params.get('order') ?? 'asc' };
    this.cursor = undefined;
  }

  private renderSortButtons(): void {
    const { key: sorted, order } = this.sort;
    for (const th of byId('findings').querySelectorAll('thead th')) {
      const label = th.getAttribute('data-label') ?? '';
      const key = SORTABLE[label];
      if (!key) continue;
      th.setAttribute(
        'aria-sort',
        sorted === key ? (order === 'asc' ? 'ascending' : 'descending') : 'none',
      );
      const button = th.querySelector('button') as HTMLButtonElement;
      button.textContent = `${label}${sorted === key ? (order === 'asc' ? ' ▲' : ' ▼') : ''}`;
    }
  }

  /** Loads the first page (`reset`, the hash rewritten to the filters) or the next one. */
  public async load(reset: boolean): Promise<void> {
    const { scanId, posture, askedPosture } = this.scope();
    const query = withPosture(posture, this.filters());
    if (reset) {
      const hash = this.filters();
      if (scanId !== 'latest') hash.set('scan', scanId);
      if (askedPosture) hash.set('posture', askedPosture);
      history.replaceState(null, '', `${location.pathname}#${hash}`);
    }
    this.renderSortButtons();
    const exportQuery = new URLSearchParams(query);
    for (const format of EXPORTS) {
      exportQuery.set('format', format);
      (byId(`export-${format}`) as HTMLAnchorElement).href = apiUrl(
        `${scanPath(scanId, 'export')}?${exportQuery}`,
      );
    }
    // The overview's first page is short (the page stays about two screens); more come 100 at a time.
    query.set('limit', reset ? String(FIRST_PAGE) : '100');
    if (!reset && this.cursor) query.set('cursor', this.cursor);
    const body = byId('findings').querySelector('tbody') as HTMLTableSectionElement;
    let page: FindingsPage;
    try {
      page = await api<FindingsPage>(`${scanPath(scanId, 'findings')}?${query}`);
    } catch (error) {
      byId('findings-count').textContent = (error as Error).message;
      body.replaceChildren();
      return;
    }
    const rows = rowsOf(page, scanId);
    if (reset) body.replaceChildren(...rows);
    else body.append(...rows);
    this.cursor = page.nextCursor;
    byId('findings-count').textContent =
      `${body.rows.length} of ${page.total.toLocaleString('en')} shown`;
    (byId('more') as HTMLButtonElement).hidden = this.cursor === undefined;
  }

  /** The form, the sort buttons, "more" and the export links, wired once. */
  public wire(): void {
    const refresh = () => {
      void this.load(true);
    };
    byId('filters').addEventListener('change', refresh);
    byId('filters').addEventListener('submit', (event) => {
      event.preventDefault();
      refresh();
    });
    byId('more').addEventListener('click', () => {
      void this.load(false);
    });
    for (const th of byId('findings').querySelectorAll('thead th')) {
      const label = th.textContent ?? '';
      th.setAttribute('data-label', label);
      if (!SORTABLE[label]) continue;
      const button = element('button', label, 'sort');
      button.type = 'button';
      button.addEventListener('click', () => {
        const key = SORTABLE[label] as string;
        this.sort =
          this.sort.key === key
            ? { key, order: this.sort.order === 'asc' ? 'desc' : 'asc' }
            : { key, order: 'asc' };
        refresh();
      });
      th.replaceChildren(button);
    }
    // Export links download through the API client (the deployed API needs its token).
    for (const format of EXPORTS) {
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
}

/** A page of findings as table rows. */
function rowsOf(page: FindingsPage, scanId: string): HTMLTableRowElement[] {
  // Links name the scan itself, never `latest`, so a shared link keeps showing what it showed.
  const shown = page.scanId ?? scanId;
  return page.findings.map((f, i) => {
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
    const cells = [
      status,
      severityCell(f.severity),
      bucket,
      element('td', f.ruleId),
      whyCell(f.message),
      element(
        'td',
        rescanned
          ? `${change ? `${change} · ` : ''}rescan ${rescanned.scanTime.slice(0, 16).replace('T', ' ')}`
          : change,
      ),
    ];
    // At phone width each value stands under its column's name (app.css).
    cells.forEach((cell, c) => {
      cell.dataset.label = COLUMNS[c] ?? '';
    });
    row.append(...cells);
    return row;
  });
}

/** Past this many characters a reason shows its first lines, and the rest on request. */
const LONG_REASON = 160;

/**
 * Why a verdict is what it is. A long reason (a policy's every gap) shows two lines with
 * `more`: a details element, so it opens by keyboard and the whole text is always read out.
 */
function whyCell(message: string): HTMLTableCellElement {
  const cell = element('td');
  if (message.length <= LONG_REASON) {
    cell.textContent = message;
    return cell;
  }
  const details = element('details', undefined, 'why');
  const summary = element('summary');
  summary.append(element('span', message, 'text'));
  details.append(summary);
  cell.append(details);
  return cell;
}

function severityCell(severity: string): HTMLTableCellElement {
  const cell = element('td');
  cell.append(severityBadge(severity));
  return cell;
}
