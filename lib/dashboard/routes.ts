import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { IntegrityError, ReportStoreError } from '../errors.js';
import type { ReportStore } from '../report-store/types.js';
import {
  DashboardRequestError,
  exportFindings,
  getBucket,
  getCompliance,
  getDrift,
  getFindings,
  getOverview,
  getRules,
  getSummaryText,
  listScans,
} from './api.js';
import { getBucketFixes } from './fixes-view.js';

/** An HTTP API (payload 2.0) request, with the router's path parameters. */
export type DashboardEvent = APIGatewayProxyEventV2 & {
  pathParameters?: Record<string, string | undefined>;
};

/** A JSON answer that no cache keeps (findings are not for shared caches). */
export function json(body: unknown): APIGatewayProxyResultV2 {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * What a request that cannot be answered tells the page: client mistakes a 4xx with their
 * message; a store that cannot be read or a changed scan a 500 saying so (the message names
 * the file, never its content) with the command that looks into it. Anything else is thrown:
 * a plain 500 (http-error-handler, or the local server) that leaks nothing.
 */
function problemAnswer(error: unknown, store: ReportStore): APIGatewayProxyResultV2 | undefined {
  const where = store.describe();
  const problem =
    error instanceof DashboardRequestError
      ? error
      : error instanceof IntegrityError
        ? new DashboardRequestError(500, error.message, {
            problem: 'changed',
            fix: `s3scan verify --store ${where}`,
          })
        : error instanceof ReportStoreError
          ? new DashboardRequestError(500, error.message, {
              problem: 'store-unreadable',
              fix: `s3scan verify --store ${where}`,
            })
          : undefined;
  if (!problem) return undefined;
  return {
    statusCode: problem.statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      message: problem.message,
      ...(problem.problem ? { problem: problem.problem, fix: problem.fix } : {}),
    }),
  };
}

async function answer(
  store: () => ReportStore,
  work: () => Promise<unknown>,
  respond: (value: never) => APIGatewayProxyResultV2 = json,
): Promise<APIGatewayProxyResultV2> {
  try {
    return respond((await work()) as never);
  } catch (error) {
    const problem = problemAnswer(error, store());
    if (problem) return problem;
    throw error;
  }
}

/**
 * The dashboard's HTTP routes over any report store, in the API Gateway v2 event shape that
 * middy's router takes: the Lambda serves them behind the JWT authorizer (the S3 store), and
 * the coming local server serves the same routes over a local folder.
 */
export function dashboardRoutes(store: () => ReportStore) {
  const scanId = (event: DashboardEvent) => event.pathParameters?.id ?? '';
  const query = (event: DashboardEvent) => event.queryStringParameters ?? {};
  return [
    {
      method: 'GET' as const,
      path: '/scans',
      handler: (event: DashboardEvent) =>
        answer(store, () => listScans(store(), event.queryStringParameters ?? {})),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/summary',
      handler: (event: DashboardEvent) =>
        answer(
          store,
          () => getSummaryText(store(), scanId(event)),
          (text: string) => ({
            statusCode: 200,
            headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
            body: text,
          }),
        ),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/overview',
      handler: (event: DashboardEvent) =>
        answer(store, () => getOverview(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/drift',
      handler: (event: DashboardEvent) =>
        answer(store, () => getDrift(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/findings',
      handler: (event: DashboardEvent) =>
        answer(store, () => getFindings(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/export',
      handler: (event: DashboardEvent) =>
        answer(
          store,
          () => exportFindings(store(), scanId(event), query(event)),
          (file: Awaited<ReturnType<typeof exportFindings>>) => ({
            statusCode: 200,
            headers: {
              'content-type': file.contentType,
              'content-disposition': `attachment; filename="${file.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
              'cache-control': 'no-store',
              'x-s3scan-count': String(file.count),
            },
            body: file.body,
          }),
        ),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/buckets/{name}',
      handler: (event: DashboardEvent) =>
        answer(store, () =>
          getBucket(store(), scanId(event), event.pathParameters?.name ?? '', query(event)),
        ),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/compliance',
      handler: (event: DashboardEvent) =>
        answer(store, () => getCompliance(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/fixes',
      handler: (event: DashboardEvent) =>
        answer(store, () => getBucketFixes(store(), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/rules',
      handler: (event: DashboardEvent) => answer(store, () => getRules(store(), scanId(event))),
    },
  ];
}

/** The dashboard API as one handler of an API Gateway v2 event. */
export type DashboardRouter = (
  event: DashboardEvent,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/**
 * The routes behind middy's router: the one way a request reaches its route, for both hosts.
 * The Lambda wraps it in its middleware stack; the local server calls it with the event it
 * builds from the HTTP request. An unknown route throws a 404 (`Route does not exist`).
 */
export function dashboardRouter(store: () => ReportStore): DashboardRouter {
  return httpRouterHandler(dashboardRoutes(store) as never) as unknown as DashboardRouter;
}
