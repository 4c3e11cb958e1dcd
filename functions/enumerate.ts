import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../lib/collect/clients.js';
import { startScan } from '../lib/distributed/steps.js';
import type { WorkArea } from '../lib/distributed/work-area.js';
import { newScanId } from '../lib/report-store/scan-id.js';
import {
  clientsFromEnv,
  logger,
  SCAN_TARGET_PROPERTIES,
  validator,
  workFromEnv,
} from './common/env.js';

/** The state machine's input: like the scan function's. */
export interface EnumerateInput {
  buckets?: string[];
  regions?: string[];
  objects?: 'none' | 'sample' | 'full' | 'inventory' | 'auto';
  versions?: boolean;
  sampleSize?: number;
  scanId?: string;
}

export const parseEnumerateInput = validator<EnumerateInput>(
  {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...SCAN_TARGET_PROPERTIES,
    },
  },
  'scan',
);

/** Enumerates the buckets of a scheduled (or on-demand) distributed scan. */
export async function enumerate(
  event: unknown,
  deps: { clients: () => AwsClients; work: (scanId: string) => WorkArea; now: () => Date },
) {
  const input = parseEnumerateInput(event);
  const now = deps.now();
  const scanId = input.scanId ?? newScanId(now);
  const clients = deps.clients();
  try {
    const mode = input.objects ?? 'auto';
    const result = await startScan({
      clients,
      work: deps.work,
      scanId,
      now,
      buckets: input.buckets ?? [],
      regions: input.regions ?? [],
      ...(mode !== 'none'
        ? {
            objects: {
              mode,
              versions: input.versions === true,
              sampleSize: input.sampleSize ?? 100,
            },
          }
        : {}),
    });
    logger.info('scan planned', result);
    return result;
  } finally {
    clients.destroy();
  }
}

export const handler = middy<unknown, unknown, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) =>
    enumerate(event, { clients: clientsFromEnv, work: workFromEnv, now: () => new Date() }),
  );
