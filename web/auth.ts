/**
 * Login of the deployed page: the OAuth 2.0 authorization-code grant with PKCE (RFC 7636)
 * against the stack's Cognito user pool or the configured issuer, as a public client (a page
 * keeps no secret). Tokens stay in sessionStorage: gone with the tab, never in a cookie the
 * API would accept from another site. Locally (no /config.json) the per-run token s3scan
 * printed is the login ({@link localToken}), and none of the rest runs.
 */

import type { DeployedPageConfig as PageConfig } from '../lib/aws/page-config.js';

const PENDING = 's3scan.login';
const TOKEN = 's3scan.token';

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function randomText(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The deployed page's config, or undefined on the local server (which has none). */
export async function loadPageConfig(): Promise<PageConfig | undefined> {
  const response = await fetch('/config.json', { credentials: 'same-origin' });
  if (response.status === 404 || response.status === 401) {
    // Read or cancel every answer: one left open keeps the page from ever being idle.
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) throw new Error(`/config.json: HTTP ${response.status}`);
  return (await response.json()) as PageConfig;
}

/** Sends the browser to the login page, remembering the verifier, the state and the view. */
export async function startLogin(config: PageConfig): Promise<never> {
  const verifier = randomText(48);
  const state = randomText(16);
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  );
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.auth.clientId,
    redirect_uri: config.auth.redirectUri,
    scope: config.auth.scopes.join(' '),
    state,
    code_challenge: base64url(digest),
    code_challenge_method: 'S256',
  });
  location.assign(`${config.auth.authorizeUrl}?${query}`);
  // The page is leaving; nothing after this runs.
  return new Promise<never>(() => undefined);
}

/**
 * The access token: from this tab's session, or from the code the login just sent back
 * (exchanged with the verifier, the state checked); undefined when a login is needed.
 */
export async function accessToken(config: PageConfig): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (code) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as {
      verifier: string;
      state: string;
      hash: string;
    } | null;
    sessionStorage.removeItem(PENDING);
    // A code without our state is someone else's (login CSRF): it is dropped, unused.
    if (!pending || params.get('state') !== pending.state) {
      history.replaceState(null, '', location.pathname);
      throw new Error('the login answer does not match a login this tab started; log in again');
    }
    const response = await fetch(config.auth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: config.auth.clientId,
        code,
        redirect_uri: config.auth.redirectUri,
        code_verifier: pending.verifier,
      }),
    });
    if (!response.ok) throw new Error(`the login's token endpoint answered ${response.status}`);
    const tokens = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!tokens.access_token) throw new Error('the login answered no access token');
    sessionStorage.setItem(
      TOKEN,
      JSON.stringify({
        token: tokens.access_token,
        expires: Date.now() + (tokens.expires_in ?? 3600) * 1000,
      }),
    );
    // The code leaves the address bar; the view the user was on comes back.
    history.replaceState(null, '', `${location.pathname}${pending.hash}`);
  }
  const stored = JSON.parse(sessionStorage.getItem(TOKEN) ?? 'null') as {
    token: string;
    expires: number;
  } | null;
  // A minute of margin: a token that expires mid-request is a 401 for nothing.
  return stored && stored.expires - 60_000 > Date.now() ? stored.token : undefined;
}

/** Forgets this tab's token (after a 401: the next request logs in again). */
export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN);
}

const LOCAL_TOKEN = 's3scan.local-token';

/**
 * The local dashboard's per-run token: taken from the URL s3scan printed (`?token=`), kept in
 * this origin's localStorage (scheme, host and port: two dashboards on two ports keep their
 * own, and no other server on 127.0.0.1 can read it, as it could a cookie) and removed from the
 * address bar and its history entry.
 */
export function localToken(): string | undefined {
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (given) {
    localStorage.setItem(LOCAL_TOKEN, given);
    params.delete('token');
    const search = params.toString();
    history.replaceState(
      null,
      '',
      `${location.pathname}${search ? `?${search}` : ''}${location.hash}`,
    );
  }
  return localStorage.getItem(LOCAL_TOKEN) ?? undefined;
}

/** Forgets the local token (the server answered 401: it is another run's). */
export function forgetLocalToken(): void {
  localStorage.removeItem(LOCAL_TOKEN);
}
