import { fileURLToPath } from 'node:url';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import {
  type DeployedPageConfig,
  pageBucketClient,
  pageFiles,
  publishPage,
  unpublishPage,
} from '../lib/aws/publish-page.js';
import { PagePublishError } from '../lib/errors.js';
import { logger, region } from './common/env.js';

/** The properties the stack gives the `Custom::DashboardPage` resource. */
interface PageProperties {
  Bucket: string;
  KmsKeyArn: string;
  Config: DeployedPageConfig;
}

/** The built page, copied next to this bundle by build.mjs. */
const WEB = fileURLToPath(new URL('./web/', import.meta.url));

/**
 * Answers CloudFormation at the presigned ResponseURL. Every path ends here, a failure
 * included: a custom resource that never answers holds the stack for an hour.
 */
async function respond(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  physicalId: string,
  reason?: string,
  data?: Record<string, string>,
): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    // CloudFormation shows at most 4 KB of the reason.
    Reason: (reason ?? 'see the function log').slice(0, 3000),
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data,
  });
  // The presigned URL is signed without a content type: none may be sent.
  const answer = await fetch(event.ResponseURL, {
    method: 'PUT',
    body,
    headers: { 'content-type': '' },
  });
  if (!answer.ok)
    throw new PagePublishError(`CloudFormation's response URL answered ${answer.status}`);
}

/** Deps of the handler, for tests. */
export interface PublishPageDeps {
  s3: (region: string) => ReturnType<typeof pageBucketClient>;
  webRoot: string;
}

/**
 * The `Custom::DashboardPage` resource: on Create and Update it puts the built page and its
 * config.json (API path, login endpoints, client id) into the page bucket; on Delete it
 * removes them, so the bucket can go with the stack.
 */
export function publishPageHandler(deps: PublishPageDeps) {
  return async (event: CloudFormationCustomResourceEvent, _context?: Context): Promise<void> => {
    const props = event.ResourceProperties as unknown as PageProperties;
    const physicalId = `s3://${props.Bucket}/`;
    try {
      const target = {
        s3: deps.s3(region()),
        bucket: props.Bucket,
        kmsKeyArn: props.KmsKeyArn,
      };
      const files = await pageFiles(deps.webRoot);
      if (event.RequestType === 'Delete') {
        await unpublishPage(target, [...files.map((f) => f.name), 'config.json']);
        await respond(event, 'SUCCESS', event.PhysicalResourceId, 'page removed');
        return;
      }
      const written = await publishPage(target, files, props.Config);
      logger.info('page published', { bucket: props.Bucket, files: written });
      await respond(event, 'SUCCESS', physicalId, `published ${written.join(', ')}`, {
        Files: written.join(','),
      });
    } catch (error) {
      logger.error('page publishing failed', { error });
      await respond(
        event,
        'FAILED',
        event.RequestType === 'Create' ? physicalId : event.PhysicalResourceId,
        (error as Error).message,
      );
    }
  };
}

export const handler = publishPageHandler({
  s3: pageBucketClient,
  webRoot: WEB,
});
