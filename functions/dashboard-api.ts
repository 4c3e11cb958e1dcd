import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import { createError } from '@middy/util';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { DashboardRequestError, getFindings, getSummary, listScans } from '../lib/dashboard/api.js';
import type { ReportStore } from '../lib/report-store/types.js';
import { logger, storeFromEnv } from './common/env.js';

type Event = APIGatewayProxyEventV2 & { pathParameters?: Record<string, string | undefined> };

function json(body: unknown): APIGatewayProxyResultV2 {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** Client mistakes become 4xx with their message; anything else a plain 500 (http-error-handler). */
async function answer(work: () => Promise<unknown>): Promise<APIGatewayProxyResultV2> {
  try {
    return json(await work());
  } catch (error) {
    if (error instanceof DashboardRequestError) throw createError(error.statusCode, error.message);
    throw error;
  }
}

/** The routes, over any report store (the S3 one in Lambda, a local folder in tests). */
export function dashboardRoutes(store: () => ReportStore) {
  const scanId = (event: Event) => event.pathParameters?.id ?? '';
  return [
    {
      method: 'GET' as const,
      path: '/scans',
      handler: (event: Event) =>
        answer(() => listScans(store(), event.queryStringParameters ?? {})),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/summary',
      handler: (event: Event) => answer(() => getSummary(store(), scanId(event))),
    },
    {
      method: 'GET' as const,
      path: '/scans/{id}/findings',
      handler: (event: Event) =>
        answer(() => getFindings(store(), scanId(event), event.queryStringParameters ?? {})),
    },
  ];
}

/** The dashboard API behind the HTTP API's JWT authorizer. */
export function dashboardHandler(store: () => ReportStore) {
  return middy<Event, APIGatewayProxyResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(
      httpErrorHandler({ logger: (error: unknown) => logger.error('request failed', { error }) }),
    )
    .handler(httpRouterHandler(dashboardRoutes(store) as never) as never);
}

let store: ReportStore | undefined;
export const handler = dashboardHandler(() => {
  store ??= storeFromEnv();
  return store;
});
