import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { type DashboardEvent, dashboardRouter } from '../lib/dashboard/routes.js';
import type { ReportStore } from '../lib/report-store/types.js';
import { logger, storeFromEnv } from './common/env.js';
import { lambdaStack } from './common/stack.js';

/** The dashboard API behind the HTTP API's JWT authorizer. */
export function dashboardHandler(store: () => ReportStore) {
  return lambdaStack<DashboardEvent, APIGatewayProxyResultV2>()
    .use(httpHeaderNormalizer())
    .use(
      httpErrorHandler({ logger: (error: unknown) => logger.error('request failed', { error }) }),
    )
    .handler(dashboardRouter(store));
}

let store: ReportStore | undefined;
export const handler = dashboardHandler(() => {
  store ??= storeFromEnv();
  return store;
});
