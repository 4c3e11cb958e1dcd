import pLimit from 'p-limit';
import type { AwsClients } from '../lib/collect/clients.js';
import type { WorkArea } from '../lib/report-store/work-area.js';
import { OBJECT_PART_ITEM_SCHEMA, scanObjectPartStep } from '../lib/step-functions/object-parts.js';
import { readPlan } from '../lib/step-functions/plan.js';
import type { MemberClients } from '../lib/step-functions/scan-bucket.js';
import {
  clientsFromEnv,
  intFromEnv,
  memberClientsFromEnv,
  validator,
  workFromEnv,
} from './common/env.js';
import { lambdaStack } from './common/stack.js';

export const parsePartItem = validator(OBJECT_PART_ITEM_SCHEMA, 'object part item');

/** One item of the object-parts map: an inventory data file, or a key-space partition. */
export async function scanPart(
  event: unknown,
  deps: {
    clients: () => AwsClients;
    memberClients?: MemberClients;
    work: (scanId: string) => WorkArea;
    concurrency: number;
  },
  signal?: AbortSignal,
) {
  const item = parsePartItem(event);
  const work = deps.work(item.scanId);
  const plan = await readPlan(work, `scan ${item.scanId}`);
  const member = item.account !== undefined && item.account !== plan.accountId;
  const clients =
    member && plan.memberRole && deps.memberClients
      ? deps.memberClients(item.account!, plan.memberRole, plan.scanId)
      : deps.clients();
  const limiter = pLimit(deps.concurrency);
  try {
    return await scanObjectPartStep({
      clients,
      work,
      item,
      plan,
      limit: (fn) => limiter(fn),
      signal,
    });
  } finally {
    clients.destroy();
  }
}

export const handler = lambdaStack({ timeoutEarlyInMillis: 30_000 }).handler(
  (event, _context, { signal }) =>
    scanPart(
      event,
      {
        clients: clientsFromEnv,
        memberClients: memberClientsFromEnv,
        work: workFromEnv,
        concurrency: intFromEnv('SCAN_CONCURRENCY', 32),
      },
      signal,
    ),
);
