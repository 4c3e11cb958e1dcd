/**
 * DOM helpers of the page. Every value from a scan (bucket names, messages, policy text, tags)
 * goes through `textContent` or an attribute setter, never through HTML parsing, so nothing a
 * bucket is called can become markup or script; the server's CSP allows no inline code either.
 */

import type { Assurance } from '../lib/engine/types.js';

/** An element with text (set as text) and a class. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** A bucket name or other scanned text, isolated from the surrounding text's direction. */
export function bidi(text: string): HTMLElement {
  return element('bdi', text);
}

export function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

/**
 * A link inside the page: only ever a `#…` address built here from URLSearchParams, so a
 * scanned value can never become a `javascript:` or foreign URL.
 */
/** Hash parameters every link of the page carries unless it sets them (the posture shown). */
const carried: Record<string, string> = {};

/** Sets what links carry: `posture=now` while the page shows the posture now. */
export function carryInLinks(params: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(params))
    if (value === undefined) delete carried[key];
    else carried[key] = value;
}

export function hashLink(
  params: Record<string, string>,
  ...content: (Node | string)[]
): HTMLAnchorElement {
  const link = element('a');
  link.href = `#${new URLSearchParams({ ...carried, ...params })}`;
  link.append(...content);
  return link;
}

/** A row of labelled numbers (a `<dl>` of cards); a card may link somewhere in the page. */
export function cards(
  id: string,
  entries: [label: string, value: string, link?: Record<string, string>][],
): void {
  byId(id).replaceChildren(
    ...entries.map(([label, value, link]) => {
      const card = element('div');
      card.dataset.label = label;
      const number = element('dd');
      number.append(link ? hashLink(link, value) : value);
      card.append(element('dt', label), number);
      return card;
    }),
  );
}

/**
 * Counts as labelled horizontal bars on one scale (the largest is full width): the label, the
 * bar, and the value as text beside it (a link to what it counts when given). Same markup as
 * {@link cards} (`div[data-label] > dt + dd`), so a count is found the same way in either.
 */
export function bars(
  id: string,
  entries: [label: string, count: number, value: string, link?: Record<string, string>][],
): void {
  const largest = Math.max(1, ...entries.map(([, count]) => count));
  byId(id).replaceChildren(
    ...entries.map(([label, count, value, link]) => {
      const row = element('div');
      row.dataset.label = label;
      const track = element('span', undefined, 'track');
      const bar = element('span', undefined, 'bar');
      // Set through the CSSOM, which the page's CSP allows (no inline style attribute).
      bar.style.width = `${((100 * count) / largest).toFixed(1)}%`;
      track.append(bar);
      track.setAttribute('aria-hidden', 'true');
      const number = element('dd');
      number.append(track, link ? hashLink(link, value) : value);
      row.append(element('dt', label), number);
      return row;
    }),
  );
}

export const formatCount = (n: number): string => n.toLocaleString('en');

/** Bytes in binary units, one decimal. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A table with a header row; cells are nodes or text. */
export function table(
  headers: string[],
  rows: (Node | string)[][],
  caption?: string,
): HTMLTableElement {
  const node = element('table');
  if (caption) node.append(element('caption', caption));
  const head = element('thead');
  const headRow = element('tr');
  for (const h of headers) {
    const th = element('th', h);
    th.scope = 'col';
    headRow.append(th);
  }
  head.append(headRow);
  const body = element('tbody');
  for (const cells of rows) {
    const row = element('tr');
    cells.forEach((cell, i) => {
      const td = element('td');
      // At phone width each value stands under its column's name (app.css).
      td.dataset.label = headers[i] ?? '';
      td.append(cell);
      row.append(td);
    });
    body.append(row);
  }
  node.append(head, body);
  return node;
}

/** A severity as its word beside a mark of the severity scale (app.css): never colour alone. */
export function severityBadge(severity: string): HTMLElement {
  return element('span', severity, `sev sev-${severity}`);
}

/** A status as a coloured, labelled word (the colour is never the only signal). */
export function statusBadge(status: string, assurance?: Assurance): HTMLElement {
  const badge = element('span', status, `badge ${status}`);
  const seen = assuranceLabel(assurance);
  if (!seen) return badge;
  // A verdict on a sample or an inventory says so beside its status, never hidden.
  const wrap = element('span');
  wrap.append(badge, element('small', seen, 'assurance'));
  return wrap;
}

/**
 * How much a verdict saw, when it is less than everything: `sample 100 of 48,210, ≤3.0 %
 * missed`, `inventory 2.2 days old`; undefined for complete verdicts.
 */
export function assuranceLabel(assurance: Assurance | undefined): string | undefined {
  if (!assurance || assurance.kind === 'complete' || assurance.kind === 'none') return undefined;
  if (assurance.kind === 'inventory') return `inventory ${assurance.ageDays} days old`;
  const bound =
    assurance.upperBound95 !== undefined
      ? `, ≤${(assurance.upperBound95 * 100).toFixed(1)} % missed`
      : '';
  return `sample ${assurance.classified.toLocaleString('en')} of ${assurance.listed.toLocaleString('en')}${bound}`;
}

/**
 * Preformatted text (policy JSON, a CLI snippet) that scrolls sideways when long; focusable,
 * so a keyboard can scroll it too.
 */
export function preformatted(text: string): HTMLPreElement {
  const pre = element('pre');
  pre.tabIndex = 0;
  pre.append(element('code', text));
  return pre;
}

/** A code block with a button that copies it. */
export function copyableCode(label: string, code: string): HTMLElement {
  const figure = element('figure', undefined, 'code');
  const caption = element('figcaption', label);
  const button = element('button', 'Copy', 'copy');
  button.type = 'button';
  button.setAttribute('aria-label', `Copy ${label}`);
  const pre = preformatted(code);
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(code).then(
      () => {
        button.textContent = 'Copied';
      },
      () => {
        // No clipboard (an insecure context or a refusal): select the text for Ctrl+C instead.
        const range = document.createRange();
        range.selectNodeContents(pre);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
        button.textContent = 'Selected: press Ctrl+C';
      },
    );
  });
  caption.append(' ', button);
  figure.append(caption, pre);
  return figure;
}
