import type { AwsClients } from '../lib/collect/clients.js';
import type { WorkArea } from '../lib/report-store/work-area.js';
import { BUCKET_ITEM_SCHEMA } from '../lib/step-functions/plan.js';
import { type MemberClients, scanBucketStep } from '../lib/step-functions/scan-bucket.js';
import {
  clientsFromEnv,
  intFromEnv,
  memberClientsFromEnv,
  validator,
  workFromEnv,
} from './common/env.js';
import { lambdaStack } from './common/stack.js';

export const parseBucketItem = validator(BUCKET_ITEM_SCHEMA, 'bucket item');

/** One Distributed Map item: collect a bucket, or checkpoint before the timeout. */
export async function scanBucket(
  event: unknown,
  deps: {
    clients: () => AwsClients;
    work: (scanId: string) => WorkArea;
    concurrency: number;
    memberClients?: MemberClients;
  },
  signal?: AbortSignal,
) {
  const item = parseBucketItem(event);
  const clients = deps.clients();
  try {
    return await scanBucketStep({
      clients,
      memberClients: deps.memberClients,
      work: deps.work(item.scanId),
      item,
      concurrency: deps.concurrency,
      signal,
    });
  } finally {
    clients.destroy();
  }
}

export const handler = lambdaStack({ timeoutEarlyInMillis: 30_000 }).handler(
  (event, _context, { signal }) =>
    scanBucket(
      event,
      {
        clients: clientsFromEnv,
        work: workFromEnv,
        concurrency: intFromEnv('SCAN_CONCURRENCY', 32),
        memberClients: memberClientsFromEnv,
      },
      signal,
    ),
);
