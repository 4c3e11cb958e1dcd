import { createError } from '@middy/util';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { IntegrityError } from '../report-store/integrity.js';
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

/** Client mistakes become 4xx with their message; anything else a plain 500 (http-error-handler). */
async function answer(
  work: () => Promise<unknown>,
  respond: (value: never) => APIGatewayProxyResultV2 = json,
): Promise<APIGatewayProxyResultV2> {
  try {
    return respond((await work()) as never);
  } catch (error) {
    if (error instanceof DashboardRequestError) throw createError(error.statusCode, error.message);
    // A changed store is said as such: the message names the file, never its content.
    if (error instanceof IntegrityError) throw createError(500, error.message, { expose: true });
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
        answer(() => listScans(store(), event.queryStringParameters ?? {})),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/summary',
      handler: (event: DashboardEvent) =>
        answer(
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
        answer(() => getOverview(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/drift',
      handler: (event: DashboardEvent) =>
        answer(() => getDrift(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/findings',
      handler: (event: DashboardEvent) =>
        answer(() => getFindings(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/export',
      handler: (event: DashboardEvent) =>
        answer(
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
        answer(() =>
          getBucket(store(), scanId(event), event.pathParameters?.name ?? '', query(event)),
        ),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/compliance',
      handler: (event: DashboardEvent) =>
        answer(() => getCompliance(store(), scanId(event), query(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/rules',
      handler: (event: DashboardEvent) => answer(() => getRules(store(), scanId(event))),
    },
  ];
}
