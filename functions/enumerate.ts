import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../lib/collect/clients.js';
import type { LoadedConfig } from '../lib/config/config.js';
import { ConfigError } from '../lib/errors.js';
import { newScanId } from '../lib/report-store/scan-id.js';
import type { WorkArea } from '../lib/report-store/work-area.js';
import { startScan } from '../lib/step-functions/start-scan.js';
import {
  clientsFromEnv,
  deployedConfigFromEnv,
  logger,
  objectRequestOf,
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

const OBJECT_MODES = ['none', 'sample', 'full', 'inventory', 'auto'] as const;

/** DEFAULT_OBJECT_MODE from the stack (serverless.yml objectAccess); `auto` when unset. */
export function defaultObjectMode(value: string | undefined): (typeof OBJECT_MODES)[number] {
  if (value === undefined || value === '') return 'auto';
  const mode = OBJECT_MODES.find((m) => m === value);
  if (!mode)
    throw new ConfigError(
      `DEFAULT_OBJECT_MODE ${JSON.stringify(value)} is not one of ${OBJECT_MODES.join(', ')}`,
    );
  return mode;
}

/** Enumerates the buckets of a scheduled (or on-demand) distributed scan. */
export async function enumerate(
  event: unknown,
  deps: {
    clients: () => AwsClients;
    work: (scanId: string) => WorkArea;
    now: () => Date;
    /** The deployed config: loaded and validated before the account is listed. */
    config: () => Promise<LoadedConfig>;
  },
) {
  const input = parseEnumerateInput(event);
  // An invalid config fails the scan here, before any read: nothing is planned or published.
  const config = await deps.config();
  const now = deps.now();
  const scanId = input.scanId ?? newScanId(now);
  const clients = deps.clients();
  try {
    // The deployment's objectAccess decides what may be read, so it decides the default mode.
    const mode = input.objects ?? defaultObjectMode(process.env.DEFAULT_OBJECT_MODE);
    const result = await startScan({
      clients,
      work: deps.work,
      scanId,
      now,
      buckets: input.buckets ?? [],
      regions: input.regions ?? [],
      config,
      ...objectRequestOf(mode, input),
    });
    logger.info('scan planned', { ...result, config: config.provenance });
    return result;
  } finally {
    clients.destroy();
  }
}

export const handler = middy<unknown, unknown, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) =>
    enumerate(event, {
      clients: clientsFromEnv,
      work: workFromEnv,
      now: () => new Date(),
      config: () => deployedConfigFromEnv().load(),
    }),
  );
