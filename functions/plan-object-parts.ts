import type { WorkArea } from '../lib/report-store/work-area.js';
import { planPartItems } from '../lib/step-functions/object-parts.js';
import { readPlan } from '../lib/step-functions/plan.js';
import { SCAN_ID_FIELD } from '../lib/validation/fields.js';
import { logger, validator, workFromEnv } from './common/env.js';
import { lambdaStack } from './common/stack.js';

export const parsePartsInput = validator(
  {
    type: 'object',
    required: ['scanId'],
    properties: { scanId: SCAN_ID_FIELD },
  },
  'object parts',
);

/** After the bucket map: every fanned-out bucket's parts as one item list. */
export async function planParts(event: unknown, deps: { work: (scanId: string) => WorkArea }) {
  const { scanId } = parsePartsInput(event);
  const work = deps.work(scanId);
  const plan = await readPlan(work, `scan ${scanId}`);
  const result = await planPartItems(work, plan);
  logger.info('object parts planned', { scanId, ...result });
  return { scanId, ...result };
}

export const handler = lambdaStack().handler((event) => planParts(event, { work: workFromEnv }));
