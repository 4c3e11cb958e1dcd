import pLimit from 'p-limit';
import {
  type AccountEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import type { MemberRoles } from './assume-role.js';
import type { AwsClients, MemberCredentialsSource } from './clients.js';
import { type CollectOptions, type CollectStats, emptyStats } from './options.js';
import type { AccountList, MemberAccount } from './organization.js';
import { collectEvidence, type Enumeration, enumerateBuckets } from './scan.js';

/** How one account of an organisation-wide scan went, for the CLI's progress per account. */
export interface AccountProgress {
  accountId: string;
  status: 'started' | AccountEvidence['status'];
  /** Accounts finished so far, of `total`. */
  done: number;
  total: number;
  buckets?: number;
  reason?: string;
}

/** What an organisation-wide collection needs besides what one account's does. */
export interface OrganizationCollectOptions {
  /** The accounts to scan and the ones the organisation listed but that are not ACTIVE. */
  accounts: AccountList;
  /** The scanner: its own account is read with its own credentials (a StackSet skips it). */
  own: { accountId: string; arn: string; partition: string };
  roles: MemberRoles;
  /**
   * The clients of one account: the scanner's own (no credentials given) or a member's, whose
   * credentials the SDK asks `roles` for again as they expire.
   */
  clientsFor: (accountId: string, credentials?: MemberCredentialsSource) => AwsClients;
  /** Accounts collected at the same time. */
  accountConcurrency: number;
  /** The region account-level calls go to (STS, ListBuckets). */
  region: string;
  /** What every account's collection shares: the ids, time, filters, objects, the call bound. */
  collect: Omit<CollectOptions, 'clients' | 'onProgress' | 'sharedLimit'>;
  onAccount?: (progress: AccountProgress) => void;
}

/** One account opened for a scan: its record so far, and its clients when it could be read. */
export interface OpenedAccount {
  record: AccountEvidence;
  /** Present when the account was read: its enumeration (buckets, listings). */
  enumeration?: Enumeration;
}

/**
 * Opens one account of an organisation-wide scan: assumes its member role (the scanner's own
 * account uses its own credentials), checks STS answers as that account, and enumerates its
 * buckets. Never throws for the account's own failures: they are the record's reason.
 */
export async function openAccount(
  account: MemberAccount,
  options: Pick<OrganizationCollectOptions, 'own' | 'roles' | 'clientsFor' | 'region'> & {
    limit: <T>(fn: () => Promise<T>) => Promise<T>;
    filters: Pick<
      CollectOptions,
      'buckets' | 'regions' | 'directoryBuckets' | 'directoryBucketRegions'
    >;
    signal?: AbortSignal;
  },
): Promise<OpenedAccount> {
  const isOwn = account.id === options.own.accountId;
  const base = {
    accountId: account.id,
    ...(account.name ? { name: account.name } : {}),
    access: isOwn ? ('own' as const) : ('role' as const),
    ...(isOwn ? {} : { roleArn: options.roles.roleArn(account.id) }),
    region: options.region,
  };
  const clients = options.clientsFor(
    account.id,
    isOwn ? undefined : options.roles.provider(account.id),
  );
  try {
    if (!isOwn) await options.limit(() => options.roles.credentials(account.id));
    const enumeration = await enumerateBuckets(
      clients,
      options.filters,
      options.limit,
      options.signal,
      options.limit,
    );
    if (enumeration.accountId !== account.id)
      return {
        record: {
          ...base,
          status: 'failed',
          reason: `${isOwn ? 'the scanner' : `role ${base.roleArn}`} answered as account ${enumeration.accountId || 'unknown'}, not ${account.id}`,
          buckets: 0,
        },
      };
    return {
      record: { ...base, status: 'scanned', buckets: enumeration.targets.length },
      enumeration,
    };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return {
      record: { ...base, status: 'failed', reason: (error as Error).message, buckets: 0 },
    };
  } finally {
    clients.destroy();
  }
}

/** The records of accounts Organizations listed but that are not ACTIVE. */
export function skippedRecords(
  accounts: AccountList,
  own: string,
  region: string,
): AccountEvidence[] {
  return accounts.skipped.map((skipped) => ({
    accountId: skipped.id,
    ...(skipped.name ? { name: skipped.name } : {}),
    access: skipped.id === own ? ('own' as const) : ('role' as const),
    status: 'skipped' as const,
    reason: `${skipped.state}: ${skipped.reason}`,
    region,
    buckets: 0,
  }));
}

/** The merged evidence of every account, and what it cost. */
export interface OrganizationCollectResult {
  evidence: ScanEvidence;
  stats: CollectStats;
  /** True when the scan was aborted before every account finished (nothing is complete). */
  interrupted: boolean;
}

function addStats(into: CollectStats, from: CollectStats): void {
  for (const key of Object.keys(into) as (keyof CollectStats)[]) into[key] += from[key];
}

/**
 * Collects every account of an organisation-wide scan into one evidence document: each
 * account through its member role (the scanner's own with its own credentials), at most
 * `accountConcurrency` accounts and `collect.concurrency` AWS calls at a time across all of
 * them. An account whose role cannot be assumed, whose role answers as another account, or
 * whose buckets cannot be listed is recorded as `failed` with the reason: the account rule
 * makes it an ERROR finding and the other accounts go on. Accounts that are not ACTIVE are
 * recorded as `skipped`.
 */
export async function collectOrganization(
  options: OrganizationCollectOptions,
): Promise<OrganizationCollectResult> {
  const { collect, own, roles } = options;
  const stats = emptyStats();
  const evidence: ScanEvidence = {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    tool: { name: 's3scan', version: collect.toolVersion },
    scanId: collect.scanId,
    scanTime: collect.scanTime.toISOString(),
    accountId: own.accountId,
    partition: own.partition,
    callerArn: own.arn,
    buckets: [],
    kmsKeys: {},
    accounts: [],
  };
  const records: AccountEvidence[] = [];
  const total = options.accounts.accounts.length;
  let done = 0;
  let interrupted = false;
  const sharedLimit = pLimit(collect.concurrency);
  const accountLimit = pLimit(options.accountConcurrency);

  const scanAccount = async (account: MemberAccount): Promise<void> => {
    if (collect.signal?.aborted) {
      interrupted = true;
      return;
    }
    const isOwn = account.id === own.accountId;
    const base = {
      accountId: account.id,
      ...(account.name ? { name: account.name } : {}),
      access: isOwn ? ('own' as const) : ('role' as const),
      ...(isOwn ? {} : { roleArn: roles.roleArn(account.id) }),
      region: options.region,
    };
    options.onAccount?.({ accountId: account.id, status: 'started', done, total });
    const finish = (record: AccountEvidence) => {
      records.push(record);
      done += 1;
      options.onAccount?.({
        accountId: account.id,
        status: record.status,
        done,
        total,
        buckets: record.buckets,
        ...(record.reason ? { reason: record.reason } : {}),
      });
    };
    let clients: AwsClients | undefined;
    try {
      if (!isOwn) {
        // Assumed up front: a role that cannot be assumed is the account's one finding, not
        // an error on every call of its scan.
        stats.stsCalls += 1;
        await sharedLimit(() => roles.credentials(account.id));
      }
      clients = options.clientsFor(account.id, isOwn ? undefined : roles.provider(account.id));
      const result = await collectEvidence({ ...collect, clients, sharedLimit });
      addStats(stats, result.stats);
      if (result.checkpoint) {
        interrupted = true;
        return;
      }
      const got = result.evidence;
      // The role is trusted to be the account it is named after only once STS says so.
      if (got.accountId !== account.id) {
        finish({
          ...base,
          status: 'failed',
          reason: `${isOwn ? 'the scanner' : `role ${base.roleArn}`} answered as account ${got.accountId || 'unknown'}, not ${account.id}`,
          buckets: 0,
        });
        return;
      }
      evidence.buckets.push(...got.buckets);
      Object.assign(evidence.kmsKeys, got.kmsKeys);
      finish({ ...base, status: 'scanned', buckets: got.buckets.length });
    } catch (error) {
      if (collect.signal?.aborted) {
        interrupted = true;
        return;
      }
      finish({ ...base, status: 'failed', reason: (error as Error).message, buckets: 0 });
    } finally {
      clients?.destroy();
    }
  };

  await Promise.all(options.accounts.accounts.map((a) => accountLimit(() => scanAccount(a))));
  records.push(...skippedRecords(options.accounts, own.accountId, options.region));
  evidence.accounts = records.sort((a, b) =>
    a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0,
  );
  return { evidence, stats, interrupted };
}
