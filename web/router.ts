/** The page's state is its URL's hash: which view, which scan, which posture, which filters. */
import type { PostureMode } from './api.js';

export const VIEWS = ['dashboard', 'bucket', 'compliance', 'scans'] as const;
export type View = (typeof VIEWS)[number];

/** What the page shows, from the hash: `#view=bucket&name=…`, `#status=FAIL&rule=…`. */
export function route(): { view: View; params: URLSearchParams } {
  const params = new URLSearchParams(location.hash.slice(1));
  const view = params.get('view') as View | null;
  return { view: view && VIEWS.includes(view) ? view : 'dashboard', params };
}

/**
 * The posture shown: `posture=` in the hash, else the posture now for the latest scan (what an
 * engineer opening the dashboard asks: how do things stand) and the scan itself when the hash
 * names one (a shared link keeps showing what it showed).
 */
export function postureMode(params: URLSearchParams): PostureMode {
  const asked = params.get('posture');
  if (asked === 'now' || asked === 'scan') return asked;
  return params.has('scan') ? 'scan' : 'now';
}

/** The scan the views show: `scan=` in the hash, else the latest (the API knows `latest`). */
export const currentScan = (params: URLSearchParams) => params.get('scan') ?? 'latest';
