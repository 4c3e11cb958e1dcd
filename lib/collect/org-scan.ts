import pLimit from 'p-limit';
import {
  type AccountEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import type { MemberRoles } from './assume-role.js';
import type { AwsClients, MemberCredentialsSource } from './clients.js';
import type { CollectOptions, CollectStats } from './options.js';
import type { AccountList, MemberAccount } from './organization.js';
import { collectEvidence } from './scan.js';

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
  const stats: CollectStats = {
    s3Calls: 0,
    kmsCalls: 0,
    stsCalls: 0,
    httpAttempts: 0,
    retries: 0,
    bucketsWithErrors: 0,
    kmsKeys: 0,
  };
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
  for (const skipped of options.accounts.skipped)
    records.push({
      accountId: skipped.id,
      ...(skipped.name ? { name: skipped.name } : {}),
      access: skipped.id === own.accountId ? 'own' : 'role',
      status: 'skipped',
      reason: `${skipped.state}: ${skipped.reason}`,
      region: options.region,
      buckets: 0,
    });
  evidence.accounts = records.sort((a, b) =>
    a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0,
  );
  return { evidence, stats, interrupted };
}
