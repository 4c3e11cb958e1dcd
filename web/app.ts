/**
 * The dashboard page: plain DOM, no framework. Four views, chosen by the URL's hash so any
 * view can be shared: the dashboard (overview and findings), a bucket's detail, compliance
 * per framework, and the scan history with a compare view. Scanned text is only ever set as
 * text (see dom.ts). This file routes and wires; each panel is a module of its own.
 */
import { api, configureApi, type ScanList } from './api.js';
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
import { byId, carryInLinks, hashLink } from './dom.js';
import { FindingsTable } from './findings-table.js';
import { headerLine } from './header.js';
import { showOverview } from './overview.js';
import { currentScan, postureMode, route, VIEWS } from './router.js';
import { showScans } from './scans.js';
import { hideState, showState } from './state.js';

/** The scan history, asked for once, at the start, alongside the first view's requests. */
let scans: Promise<ScanList> = Promise.resolve({ latest: null, scans: [] });

/** The overview's findings table, shown for the scan and posture the hash names. */
const table = new FindingsTable(() => {
  const { params } = route();
  return {
    scanId: currentScan(params),
    posture: postureMode(params),
    askedPosture: params.get('posture'),
  };
});

/** Shows the view the hash names; each view fills its own section. */
async function render(): Promise<void> {
  const { view, params } = route();
  document.body.dataset.ready = 'false';
  hideState();
  for (const name of VIEWS) byId(`${name}-view`).hidden = name !== view;
  for (const link of document.querySelectorAll('nav a'))
    if (link.getAttribute('data-view') === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  const scanId = currentScan(params);
  const mode = postureMode(params);
  // Links keep the posture shown; a link naming a scan otherwise shows the scan as stored.
  carryInLinks({ posture: mode === 'now' || params.has('posture') ? mode : undefined });
  try {
    // The overview writes its own header line; a link straight to another view gets one too.
    if (view !== 'dashboard') headerLine(await scans, scanId, view);
    if (view === 'dashboard') await showOverview(params, scans, table, mode);
    else if (view === 'bucket') await showBucket(scanId, params, mode);
    else if (view === 'compliance') await showCompliance(scanId, mode);
    else await showScans(await scans, params);
    document.body.dataset.ready = 'true';
    // The first complete render, for the page benchmark (bench/dashboard-page.ts).
    if (performance.getEntriesByName('s3scan:ready').length === 0) performance.mark('s3scan:ready');
  } catch (error) {
    // In place of the view: what happened and the command that fixes it.
    for (const name of VIEWS) byId(`${name}-view`).hidden = true;
    const line = byId('scan');
    const state = showState(error as Error);
    line.textContent = `The dashboard could not load: ${state.title}.`;
    // The posture now reads every rescan since the scan; the scan as stored reads none of them
    // (no help when the store holds no scan at all).
    if (mode === 'now' && state.kind !== 'no-scans' && state.kind !== 'not-a-store') {
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
  table.wire();
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
