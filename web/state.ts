/**
 * The state pages: when a view cannot be shown, what happened and the command that fixes it,
 * in place of the view (an empty store, a folder that is not a store, a store that cannot be
 * read, a changed scan, an API or network failure).
 */
import type { DashboardProblem } from '../lib/errors.js';
import { ApiError } from './api.js';
import { byId } from './dom.js';

const TITLES: Record<StateKind, string> = {
  'no-scans': 'No scans in this store yet',
  'not-a-store': 'This folder is not an s3scan report store',
  'store-unreadable': 'The report store cannot be read',
  changed: 'A stored scan changed after it was written',
  api: 'The dashboard API could not answer',
  offline: 'The dashboard server did not answer',
};

/** What to do when the server sent no command of its own. */
const ADVICE: Record<'api' | 'offline', string> = {
  api: 'Reload the page to try again; the terminal running s3scan dashboard (or the API’s log, deployed) says why.',
  offline:
    'The s3scan dashboard process may have stopped: start it again and open the URL it prints.',
};

/** Which state page a failure shows: a store-level problem, or the API or network. */
export type StateKind = DashboardProblem | 'api' | 'offline';

/** Shows the state page for a failed view (the views are hidden); its title and kind. */
export function showState(error: Error): { title: string; kind: StateKind } {
  const kind: StateKind =
    error instanceof ApiError
      ? (error.problem ?? 'api')
      : // fetch rejects with a TypeError when no answer came at all.
        error instanceof TypeError
        ? 'offline'
        : 'api';
  const title = TITLES[kind];
  byId('state-title').textContent = title;
  // The server's sentence when it sent one; the path and status only when it did not.
  byId('state-message').textContent = (error instanceof ApiError && error.said) || error.message;
  const fix = error instanceof ApiError ? error.fix : undefined;
  byId('state-fix').hidden = fix === undefined;
  byId('state-command').textContent = fix ?? '';
  byId('state-advice').textContent =
    kind === 'api' || kind === 'offline' ? ADVICE[kind] : 'Then reload this page.';
  const section = byId('state-view');
  section.dataset.problem = kind;
  section.hidden = false;
  return { title, kind };
}

/** Hides the state page (a view is about to be shown). */
export function hideState(): void {
  byId('state-view').hidden = true;
}
