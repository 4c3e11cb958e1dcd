import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics } from './env.js';

/** What a handler's stack adds to the logger every handler gets. */
export interface StackOptions {
  /** Publish the handler's metrics; `cold-start` records cold starts as well. */
  metrics?: boolean | 'cold-start';
  /** Abort the handler's signal this long before the Lambda's timeout (it checkpoints). */
  timeoutEarlyInMillis?: number;
}

/**
 * The middy stack every s3scan handler starts from, declared once: Powertools logging with
 * the invocation's keys reset, metrics when the handler records any, and middy's early
 * timeout signal when the handler can stop cleanly. A handler adds its own middlewares
 * (HTTP, SQS batches) to what this returns.
 */
export function lambdaStack<TEvent = unknown, TResult = unknown>(options: StackOptions = {}) {
  const stack = middy<TEvent, TResult, Error, Context>(
    options.timeoutEarlyInMillis ? { timeoutEarlyInMillis: options.timeoutEarlyInMillis } : {},
  ).use(injectLambdaContext(logger, { resetKeys: true }));
  if (options.metrics)
    stack.use(
      logMetrics(metrics, options.metrics === 'cold-start' ? { captureColdStartMetric: true } : {}),
    );
  return stack;
}
