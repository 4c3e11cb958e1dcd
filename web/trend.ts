/** The trend panel: FAIL and ERROR of the full scans, oldest first. */
import type { ScanList } from './api.js';
import { byId, element } from './dom.js';

/** FAIL and ERROR per scan, oldest first, as two lines of an SVG chart with a text fallback. */
export function trend(list: ScanList['scans']): void {
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
