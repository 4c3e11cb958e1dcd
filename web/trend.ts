/** The trend panel: FAIL and ERROR of the full scans, oldest first. */
import type { ScanList } from './api.js';
import { byId, element, formatCount } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
/** The chart's height; its width follows the page, so its text stays the page's size. */
const HEIGHT = 160;

function svgElement<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A round step for the count axis: 1, 2 or 5 times a power of ten, about four ticks. */
function tickStep(max: number): number {
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? power * 10;
}

type Point = ScanList['scans'][number];
const SERIES = [
  { key: 'FAIL', label: 'FAIL', className: 'fail' },
  { key: 'ERROR', label: 'ERROR (could not be verified)', className: 'error' },
] as const;

/**
 * FAIL and ERROR per scan, oldest first: two lines over a count axis and a date axis, a point
 * per scan whose values show on hover and on keyboard focus, and a legend naming the series.
 */
export function trend(list: ScanList['scans']): void {
  const figure = byId('trend');
  const points: Point[] = [...list].reverse().slice(-60);
  if (points.length === 0) {
    figure.replaceChildren(element('figcaption', 'No scans yet.'));
    return;
  }
  // The plot: room on the left for counts, below for dates.
  const width = Math.round(Math.min(1000, Math.max(300, figure.clientWidth || 600)));
  const PLOT = { left: 44, right: width - 10, top: 10, bottom: HEIGHT - 30 };
  const top = Math.max(1, ...points.map((p) => Math.max(p.byStatus.FAIL, p.byStatus.ERROR)));
  const step = tickStep(top);
  const max = Math.ceil(top / step) * step;
  const x = (i: number) =>
    points.length > 1
      ? PLOT.left + (i * (PLOT.right - PLOT.left)) / (points.length - 1)
      : (PLOT.left + PLOT.right) / 2;
  const y = (value: number) => PLOT.bottom - (value / max) * (PLOT.bottom - PLOT.top);
  const svg = svgElement('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, class: 'trend' });
  // The count axis: gridlines and their values.
  for (let value = 0; value <= max; value += step) {
    svg.append(
      svgElement('line', {
        x1: PLOT.left,
        x2: PLOT.right,
        y1: y(value),
        y2: y(value),
        class: 'grid',
      }),
      svgElement(
        'text',
        { x: PLOT.left - 6, y: y(value) + 4, class: 'axis end' },
        formatCount(value),
      ),
    );
  }
  // The date axis: the first and last scan, and one between when there is room.
  const dated = [...new Set([0, Math.floor((points.length - 1) / 2), points.length - 1])];
  for (const i of dated)
    svg.append(
      svgElement(
        'text',
        {
          x: x(i),
          y: PLOT.bottom + 20,
          class: `axis ${i === 0 && points.length > 1 ? 'start' : i === points.length - 1 && points.length > 1 ? 'end' : 'middle'}`,
        },
        (points[i] as Point).scanTime.slice(0, 10),
      ),
    );
  for (const series of SERIES)
    svg.append(
      svgElement('polyline', {
        points: points.map((p, i) => `${x(i)},${y(p.byStatus[series.key])}`).join(' '),
        class: series.className,
      }),
    );
  // A point per scan and series: its values on hover (title) and on focus (aria-label).
  points.forEach((p, i) => {
    const label = `${p.scanTime.slice(0, 16).replace('T', ' ')}: ${formatCount(p.byStatus.FAIL)} FAIL, ${formatCount(p.byStatus.ERROR)} ERROR`;
    for (const series of SERIES) {
      const dot = svgElement('circle', {
        cx: x(i),
        cy: y(p.byStatus[series.key]),
        r: 3.5,
        class: `${series.className} point`,
        tabindex: series.key === 'FAIL' ? 0 : -1,
        role: 'img',
        'aria-label': label,
      });
      dot.append(svgElement('title', {}, label));
      svg.append(dot);
    }
  });
  const legend = element('ul', '', 'legend');
  for (const series of SERIES) legend.append(element('li', series.label, series.className));
  const last = points.at(-1) as Point;
  const caption = element(
    'figcaption',
    `${points.length} scan${points.length === 1 ? '' : 's'} from ${points[0]?.scanTime.slice(0, 10)} to ${last.scanTime.slice(0, 10)}; latest ${formatCount(last.byStatus.FAIL)} FAIL, ${formatCount(last.byStatus.ERROR)} ERROR.`,
  );
  svg.setAttribute('role', 'group');
  svg.setAttribute('aria-label', `FAIL and ERROR per scan. ${caption.textContent ?? ''}`);
  figure.replaceChildren(legend, svg, caption);
}
