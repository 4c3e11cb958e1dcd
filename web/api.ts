/**
 * The dashboard API as the page calls it. The answer types are the server's own (type-only
 * imports from lib/, erased by esbuild: no server code reaches the bundle).
 */
import type { Finding, Status } from '../lib/engine/types.js';
import type { BucketEvidenceFile } from '../lib/evidence/types.js';
import type { RuleDocument, ViewOverview } from '../lib/findings-index/format.js';
import type { IndexEntry } from '../lib/report-store/index-types.js';

export type { BucketEvidenceFile, Finding, IndexEntry, RuleDocument, Status, ViewOverview };

export interface ScanList {
  latest: string | null;
  scans: IndexEntry[];
}
export type Overview = ViewOverview & { indexed: boolean };
export interface FindingsPage {
  scanId?: string;
  total: number;
  findings: Finding[];
  changes?: string[];
  nextCursor?: string;
}
export interface Drift {
  from: { scanId: string; scanTime: string } | null;
  to: { scanId: string; scanTime: string };
  counts: Record<string, number>;
  changes?: Record<
    string,
    {
      kind: string;
      ruleId: string;
      bucket: string;
      account: string;
      region: string;
      before: { status: Status; severity: string } | null;
      after: { status: Status; severity: string } | null;
    }[]
  >;
}
export interface BucketDetail {
  bucket: { account: string; region: string; name: string };
  findings: Finding[];
  evidence: BucketEvidenceFile | null;
  evidenceError?: string;
  rules: RuleDocument[];
}
export interface Compliance {
  scanId: string;
  frameworks: {
    id: string;
    name: string;
    version: string;
    source: string;
    requirements: {
      id: string;
      title: string;
      rules: string[];
      counts: Record<Status, number>;
      verdict: 'FAIL' | 'ERROR' | 'PASS' | 'NOT_ASSESSED';
    }[];
  }[];
}

/** The API's path for a scan's resource. */
export const scanPath = (scanId: string, rest: string) =>
  `/scans/${encodeURIComponent(scanId)}/${rest}`;

/** Where the API is and how to authorise (deployed: a bearer token; locally: the cookie). */
const connection: { base: string; token?: string; onUnauthorised?: () => void } = { base: '/api' };

export function configureApi(options: {
  base: string;
  token?: string;
  onUnauthorised?: () => void;
}): void {
  Object.assign(connection, options);
}

async function request(path: string): Promise<Response> {
  const response = await fetch(`${connection.base}${path}`, {
    credentials: 'same-origin',
    ...(connection.token ? { headers: { authorization: `Bearer ${connection.token}` } } : {}),
  });
  if (response.status === 401 && connection.onUnauthorised) connection.onUnauthorised();
  return response;
}

/** The API's URL of a path, as the export links show it. */
export const apiUrl = (path: string) => `${connection.base}${path}`;

/**
 * Downloads an API answer as a file. Fetched, not linked: the deployed API needs the
 * Authorization header, which a plain link cannot send.
 */
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await request(path);
  if (!response.ok) {
    const message = await response
      .json()
      .then((body: { message?: string }) => body.message)
      .catch(() => undefined);
    throw new Error(message ?? `HTTP ${response.status}`);
  }
  const name =
    /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ??
    fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** GET an API path; a failed answer throws with the server's message. */
export async function api<T>(path: string): Promise<T> {
  const response = await request(path);
  if (!response.ok) {
    const message = await response
      .json()
      .then((body: { message?: string }) => body.message)
      .catch(() => undefined);
    throw new Error(`${path}: HTTP ${response.status}${message ? `: ${message}` : ''}`);
  }
  return (await response.json()) as T;
}
