import { callerIdentity, stsClient } from '../lib/collect/assume-role.js';
import type { AwsClients } from '../lib/collect/clients.js';
import { memberAccess } from '../lib/collect/member-access.js';
import {
  type AccountList,
  listAccountsUnder,
  listOrganizationAccounts,
  organizationsClient,
  parseAccountList,
} from '../lib/collect/organization.js';
import type { LoadedConfig, ObjectMode } from '../lib/config/config.js';
import { newScanId } from '../lib/report-store/scan-id.js';
import type { WorkArea } from '../lib/report-store/work-area.js';
import {
  checkObjectMode,
  objectAccessOf,
  objectModeOf,
  objectRequestOf,
} from '../lib/scan/object-modes.js';
import { startScan } from '../lib/step-functions/start-scan.js';
import { ACCOUNT_ID_FIELD } from '../lib/validation/fields.js';
import {
  accountSourceOf,
  clientsFromEnv,
  deployedConfigFromEnv,
  logger,
  region,
  SCAN_TARGET_PROPERTIES,
  stackEnv,
  validator,
  workFromEnv,
} from './common/env.js';
import { lambdaStack } from './common/stack.js';

/** The state machine's input, validated: like the scan function's, plus which accounts. */
export const parseEnumerateInput = validator(
  {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...SCAN_TARGET_PROPERTIES,
      org: {
        type: 'boolean',
        description: 'Every ACTIVE account of the organisation (else SCAN_ACCOUNTS decides).',
      },
      ous: {
        description: 'The accounts under these OUs or roots, recursively.',
        type: 'array',
        minItems: 1,
        maxItems: 100,
        items: { type: 'string', pattern: '^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$' },
      },
      accounts: {
        description: 'These accounts.',
        type: 'array',
        minItems: 1,
        maxItems: 5000,
        items: ACCOUNT_ID_FIELD,
      },
    },
  },
  'scan',
);

/** The state machine's input: the type of the schema above. */
export type EnumerateInput = ReturnType<typeof parseEnumerateInput>;

/**
 * The organisation part of the plan when the input or SCAN_ACCOUNTS asks for accounts: the
 * list (Organizations, or the ids given), the scanner's identity and its member roles.
 */
async function organizationOf(
  input: EnumerateInput,
  scanId: string,
  maxAttempts: number,
): Promise<Parameters<typeof startScan>[0]['organization']> {
  const source = input.org
    ? { org: true }
    : input.ous
      ? { ou: input.ous }
      : input.accounts
        ? { accounts: input.accounts.join(',') }
        : accountSourceOf(stackEnv.scanAccounts());
  if (!source) return undefined;
  let accounts: AccountList;
  if (source.accounts)
    accounts = { accounts: parseAccountList(source.accounts, 'accounts'), skipped: [] };
  else {
    const org = organizationsClient({ maxAttempts });
    try {
      accounts = source.ou
        ? await listAccountsUnder(org, source.ou)
        : await listOrganizationAccounts(org);
    } finally {
      org.destroy();
    }
  }
  const sts = stsClient(region(), maxAttempts);
  const memberRole = stackEnv.memberRole();
  return {
    accounts,
    ...memberAccess({
      sts,
      own: await callerIdentity(sts),
      role: memberRole,
      scanId,
      region: region(),
      clients: { maxAttempts },
    }),
    memberRole,
  };
}

/** DEFAULT_OBJECT_MODE from the stack (serverless.yml objectAccess); `auto` when unset. */
export const defaultObjectMode = (value: string | undefined): ObjectMode =>
  objectModeOf(value, 'auto', 'DEFAULT_OBJECT_MODE');

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
    // The deployment's objectAccess decides what may be read, so it decides the default mode
    // (the schedule sends no mode); the config may choose another within it.
    const schedule = config.document.schedule ?? {};
    const mode =
      input.objects ?? schedule.objects ?? defaultObjectMode(stackEnv.defaultObjectMode());
    checkObjectMode(
      mode,
      objectAccessOf(stackEnv.objectAccess()),
      input.objects
        ? 'the input'
        : schedule.objects
          ? "the config's schedule.objects"
          : 'DEFAULT_OBJECT_MODE',
    );
    const versions = input.versions ?? schedule.versions;
    const sampleSize = input.sampleSize ?? schedule.sampleSize;
    const organization = await organizationOf(input, scanId, config.scan.maxAttempts);
    const result = await startScan({
      clients,
      work: deps.work,
      scanId,
      now,
      buckets: input.buckets ?? [],
      regions: input.regions ?? [],
      config,
      ...objectRequestOf(mode, {
        versions,
        sampleSize,
      }),
      // The stack's objectFanOut: large buckets' objects as items of the object-parts map.
      ...(stackEnv.objectFanOut() ? { objectFanOut: true } : {}),
      ...(organization ? { organization } : {}),
    });
    logger.info('scan planned', { ...result, config: config.provenance });
    return result;
  } finally {
    clients.destroy();
  }
}

export const handler = lambdaStack().handler((event) =>
  enumerate(event, {
    clients: clientsFromEnv,
    work: workFromEnv,
    now: () => new Date(),
    config: () => deployedConfigFromEnv().load(),
  }),
);
