import pLimit from 'p-limit';
import type { MemberRoles } from '../collect/assume-role.js';
import type { AwsClients } from '../collect/clients.js';
import {
  type OrganizationCollectOptions,
  openAccount,
  skippedRecords,
} from '../collect/org-scan.js';
import type { AccountList } from '../collect/organization.js';
import { type BucketTarget, enumerateBuckets } from '../collect/scan.js';
import type { LoadedConfig } from '../config/config.js';
import type { WorkArea } from '../report-store/work-area.js';
import { type ObjectRequest, objectOptions } from '../scan/run-scan.js';
import { type BucketItem, type DistributedPlan, ITEMS, PLAN, type PlannedBucket } from './plan.js';

/**
 * Step 1: enumerate the account's buckets, write the plan and the map's item list (S3 holds
 * it: thousands of buckets exceed the 256 KB state payload).
 */
export async function startScan(options: {
  clients: AwsClients;
  work: (scanId: string) => WorkArea;
  scanId: string;
  now: Date;
  buckets?: string[];
  regions?: string[];
  objects?: ObjectRequest;
  /** The loaded config: its scan settings shape the object sweep, its document goes in the plan. */
  config: LoadedConfig;
  /** Read large buckets' objects as items of the object-parts map (the deployed default). */
  objectFanOut?: boolean;
  /**
   * An organisation-wide scan: the accounts and how to reach them. Each account is opened
   * here (role assumed, buckets listed) and its buckets join the one item list; an account
   * that cannot be opened is recorded, and becomes its ERROR finding at finalize.
   */
  organization?: {
    accounts: AccountList;
    own: OrganizationCollectOptions['own'];
    roles: MemberRoles;
    memberRole: { roleName: string; externalId?: string };
    clientsFor: OrganizationCollectOptions['clientsFor'];
    region: string;
  };
}): Promise<{ scanId: string; itemsKey: string; buckets: number; accounts?: number }> {
  const limit = pLimit(8);
  const bounded = <T>(fn: () => Promise<T>) => limit(fn);
  const filters = { buckets: options.buckets ?? [], regions: options.regions ?? [] };
  const common = {
    scanId: options.scanId,
    scanTime: options.now.toISOString(),
    ...(options.objects ? { objects: objectOptions(options.objects, options.config) } : {}),
    ...(options.objects && options.objectFanOut ? { objectFanOut: true } : {}),
    config: { document: options.config.document, provenance: options.config.provenance },
  };
  const planned = (t: BucketTarget, account?: string): PlannedBucket => ({
    bucket: t.name,
    region: t.region,
    ...(t.creationDate ? { creationDate: t.creationDate } : {}),
    ...(t.kind ? { kind: t.kind } : {}),
    ...(account ? { account } : {}),
  });
  let plan: DistributedPlan;
  const org = options.organization;
  if (org) {
    // Accounts are opened a few at a time; their calls share the one bound.
    const accountLimit = pLimit(4);
    const opened = await Promise.all(
      org.accounts.accounts.map((account) =>
        accountLimit(() =>
          openAccount(account, {
            own: org.own,
            roles: org.roles,
            clientsFor: org.clientsFor,
            region: org.region,
            limit: bounded,
            filters,
          }),
        ),
      ),
    );
    const accounts = [
      ...opened.map((o) => o.record),
      ...skippedRecords(org.accounts, org.own.accountId, org.region),
    ].sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
    plan = {
      ...common,
      accountId: org.own.accountId,
      partition: org.own.partition,
      callerArn: org.own.arn,
      scope: {
        ...filters,
        accounts: accounts.map((a) => a.accountId),
        unreachableAccounts: accounts.filter((a) => a.status === 'failed').map((a) => a.accountId),
      },
      accounts,
      memberRole: org.memberRole,
      directoryListings: opened.flatMap((o) => o.enumeration?.directoryListings ?? []),
      buckets: opened.flatMap((o) =>
        (o.enumeration?.targets ?? []).map((t) => planned(t, o.record.accountId)),
      ),
    };
  } else {
    const { accountId, partition, callerArn, targets, directoryListings } = await enumerateBuckets(
      options.clients,
      filters,
      bounded,
    );
    plan = {
      ...common,
      accountId,
      partition,
      callerArn,
      scope: filters,
      ...(directoryListings.length > 0 ? { directoryListings } : {}),
      buckets: targets.map((t) => planned(t)),
    };
  }
  const work = options.work(options.scanId);
  await work.put(PLAN, plan);
  const items: BucketItem[] = plan.buckets.map((b) => ({
    scanId: options.scanId,
    bucket: b.bucket,
    region: b.region,
    ...(b.account ? { account: b.account } : {}),
  }));
  await work.put(ITEMS, items);
  return {
    scanId: options.scanId,
    itemsKey: work.keyOf(ITEMS),
    buckets: items.length,
    ...(plan.accounts ? { accounts: plan.accounts.length } : {}),
  };
}
