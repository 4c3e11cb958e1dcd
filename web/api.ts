/**
 * The dashboard API as the page calls it. The answer types are the server's own (type-only
 * imports from lib/, erased by esbuild: no server code reaches the bundle).
 */
import type {
  BucketDetail,
  ComplianceAnswer as Compliance,
  DriftAnswer as Drift,
  FindingsPage,
  FixHistoryAnswer as FixHistory,
  OverviewAnswer as Overview,
  ScanList,
} from '../lib/dashboard/answers.js';
import type { Finding, Status } from '../lib/engine/types.js';
import type { DashboardProblem } from '../lib/errors.js';
import type { BucketEvidenceFile } from '../lib/evidence/types.js';
import type { RuleDocument, ViewOverview } from '../lib/findings-index/format.js';
import type { IndexEntry } from '../lib/report-store/index-types.js';

export type {
  BucketDetail,
  BucketEvidenceFile,
  Compliance,
  Drift,
  Finding,
  FindingsPage,
  FixHistory,
  IndexEntry,
  Overview,
  RuleDocument,
  ScanList,
  Status,
  ViewOverview,
};

/** Which findings the page asks for: the scan as stored, or the posture now. */
export type PostureMode = 'scan' | 'now';

/** A query with the posture the page shows added (`posture=now`; nothing for the scan). */
export function withPosture(
  posture: PostureMode,
  query: URLSearchParams = new URLSearchParams(),
): URLSearchParams {
  const out = new URLSearchParams(query);
  if (posture === 'now') out.set('posture', 'now');
  return out;
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

/**
 * A failed answer: the HTTP status, the server's message, and for a state the page explains
 * (no scans, not a store, unreadable or changed), which one and the command that fixes it.
 */
export class ApiError extends Error {
  public constructor(
    message: string,
    public readonly status: number,
    public readonly problem?: DashboardProblem,
    public readonly fix?: string,
    /** The server's own sentence, without the path and status. */
    public readonly said?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function failure(response: Response, path: string): Promise<ApiError> {
  const body = await response
    .json()
    .then((json: { message?: string; problem?: DashboardProblem; fix?: string }) => json)
    .catch(() => undefined);
  return new ApiError(
    `${path}: HTTP ${response.status}${body?.message ? `: ${body.message}` : ''}`,
    response.status,
    body?.problem,
    body?.fix,
    body?.message,
  );
}

/** The API's URL of a path, as the export links show it. */
export const apiUrl = (path: string) => `${connection.base}${path}`;

/**
 * Downloads an API answer as a file. Fetched, not linked: the deployed API needs the
 * Authorization header, which a plain link cannot send.
 */
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await request(path);
  if (!response.ok) throw await failure(response, path);
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
  if (!response.ok) throw await failure(response, path);
  return (await response.json()) as T;
}
