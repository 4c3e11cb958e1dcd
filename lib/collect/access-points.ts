import type {
  AccessPoint,
  MultiRegionAccessPointReport,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { CollectError } from '../errors.js';
import type { Probe } from '../evidence/probe.js';
import type { AccessPointEvidence, BucketEvidence } from '../evidence/types.js';
import type { AwsClients } from './clients.js';
import { tokenPages } from './pages.js';
import { abortOption, probe, probeFromError } from './probe.js';

/** IAM actions the access point reads need. */
export const ACCESS_POINT_IAM_ACTIONS = [
  's3:ListAccessPoints',
  's3:GetAccessPointPolicy',
  's3:ListMultiRegionAccessPoints',
  's3:GetMultiRegionAccessPointPolicy',
] as const;

/** Multi-Region Access Point requests are all routed to US West (Oregon). */
const MRAP_REGION = 'us-west-2';

/** ListAccessPoints pages hold up to 1,000. */
const PAGE = 1000;

/**
 * The access points of one account on its scanned general purpose buckets: one listing per
 * region that holds buckets (every access point of the account there, paged by 1,000, not one
 * call per bucket), then GetAccessPointPolicy for each access point on a scanned bucket.
 * Then the Multi-Region Access Points of the account (one listing, in us-west-2) that route to
 * a scanned bucket, each with its established policy. Each bucket gets its list as a probe: a
 * listing that was denied or failed is its buckets' `denied`/`error`, never "no access points".
 */
export async function collectAccessPoints(
  clients: AwsClients,
  accountId: string,
  buckets: BucketEvidence[],
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
  signal?: AbortSignal,
): Promise<void> {
  const general = buckets.filter((b) => b.kind !== 'directory');
  if (general.length === 0) return;
  if (!clients.s3ControlAvailable()) {
    for (const bucket of general) bucket.accessPoints = { absent: 'S3ControlUnavailable' };
    return;
  }
  const byRegion = new Map<string, BucketEvidence[]>();
  for (const bucket of general)
    byRegion.set(bucket.region, [...(byRegion.get(bucket.region) ?? []), bucket]);
  await Promise.all(
    [...byRegion].map(async ([region, inRegion]) => {
      let listed: AccessPoint[];
      let control: S3ControlClient;
      // The commands load with the client, when an account has general purpose buckets.
      const { GetAccessPointPolicyCommand } = await import('@aws-sdk/client-s3-control');
      try {
        control = await clients.s3control(region);
        listed = await listAll(control, accountId, limit, signal);
      } catch (error) {
        const failed = probeFromError<AccessPointEvidence[]>(error, []);
        for (const bucket of inRegion) bucket.accessPoints = failed;
        return;
      }
      const names = new Set(inRegion.map((b) => b.name));
      // An emulator may answer every region's listing alike: each access point once.
      const seen = new Set<string>();
      const onScanned = listed.filter((ap) => {
        const key = ap.AccessPointArn ?? ap.Name ?? '';
        if (!ap.Bucket || !names.has(ap.Bucket) || seen.has(key)) return false;
        if (ap.BucketAccountId && ap.BucketAccountId !== accountId) return false;
        seen.add(key);
        return true;
      });
      const evidence = await Promise.all(
        onScanned.map(async (ap): Promise<[string, AccessPointEvidence]> => {
          const policy: Probe<string> = await limit(() =>
            probe(async () => {
              const out = await control.send(
                new GetAccessPointPolicyCommand({ AccountId: accountId, Name: ap.Name }),
                abortOption(signal),
              );
              return policyText(out.Policy, `GetAccessPointPolicy of ${ap.Name}`);
            }, ['NoSuchAccessPointPolicy']),
          );
          return [
            ap.Bucket ?? '',
            {
              name: ap.Name ?? '',
              arn:
                ap.AccessPointArn ??
                `arn:${inRegion[0]?.partition ?? 'aws'}:s3:${region}:${accountId}:accesspoint/${ap.Name}`,
              ...(ap.Alias ? { alias: ap.Alias } : {}),
              ...(ap.NetworkOrigin ? { networkOrigin: ap.NetworkOrigin } : {}),
              ...(ap.VpcConfiguration?.VpcId ? { vpcId: ap.VpcConfiguration.VpcId } : {}),
              ...(ap.BucketAccountId ? { bucketAccountId: ap.BucketAccountId } : {}),
              policy,
            },
          ];
        }),
      );
      for (const bucket of inRegion)
        bucket.accessPoints = {
          ok: evidence
            .filter(([name]) => name === bucket.name)
            .map(([, ap]) => ap)
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        };
    }),
  );
  await addMultiRegionAccessPoints(clients, accountId, general, limit, signal);
}

/** The Multi-Region Access Points routing to the buckets, added to each bucket's list. */
async function addMultiRegionAccessPoints(
  clients: AwsClients,
  accountId: string,
  buckets: BucketEvidence[],
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
  signal?: AbortSignal,
): Promise<void> {
  const listed = buckets.filter((b) => b.accessPoints && 'ok' in b.accessPoints);
  if (listed.length === 0) return;
  const { GetMultiRegionAccessPointPolicyCommand, ListMultiRegionAccessPointsCommand } =
    await import('@aws-sdk/client-s3-control');
  let control: S3ControlClient;
  let all: MultiRegionAccessPointReport[];
  try {
    control = await clients.s3control(MRAP_REGION);
    all = await tokenPages('ListMultiRegionAccessPoints', async (NextToken) => {
      const out = await limit(() =>
        control.send(
          new ListMultiRegionAccessPointsCommand({
            AccountId: accountId,
            MaxResults: 100,
            NextToken,
          }),
          abortOption(signal),
        ),
      );
      return { items: out.AccessPoints ?? [], next: out.NextToken };
    });
  } catch (error) {
    // Their Multi-Region Access Points are unknown: the buckets' lists are not complete.
    const failed = probeFromError<AccessPointEvidence[]>(error, []);
    for (const bucket of listed) bucket.accessPoints = failed;
    return;
  }
  const partition = listed[0]?.partition ?? 'aws';
  for (const mrap of all) {
    const routes = (mrap.Regions ?? []).filter(
      (r) => !r.BucketAccountId || r.BucketAccountId === accountId,
    );
    const targets = listed.filter((b) => routes.some((r) => r.Bucket === b.name));
    if (targets.length === 0 || !mrap.Name) continue;
    const policy: Probe<string> = await limit(() =>
      probe(async () => {
        const out = await control.send(
          new GetMultiRegionAccessPointPolicyCommand({ AccountId: accountId, Name: mrap.Name }),
          abortOption(signal),
        );
        // The established policy is the one in force; a proposed one is still propagating.
        return policyText(
          out.Policy?.Established?.Policy,
          `GetMultiRegionAccessPointPolicy of ${mrap.Name}`,
        );
      }, ['NoSuchMultiRegionAccessPointPolicy']),
    );
    const entry: AccessPointEvidence = {
      name: mrap.Name,
      arn: `arn:${partition}:s3::${accountId}:accesspoint/${mrap.Alias ?? mrap.Name}`,
      ...(mrap.Alias ? { alias: mrap.Alias } : {}),
      multiRegion: true,
      policy,
    };
    for (const bucket of targets)
      if (bucket.accessPoints && 'ok' in bucket.accessPoints) bucket.accessPoints.ok.push(entry);
  }
}

/** A policy S3 Control answered with; an answer without one is an error, never "no policy". */
function policyText(policy: string | undefined, call: string): string {
  if (typeof policy !== 'string') throw new CollectError(`${call} returned no policy`);
  return policy;
}

async function listAll(
  control: S3ControlClient,
  accountId: string,
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
  signal?: AbortSignal,
): Promise<AccessPoint[]> {
  const { ListAccessPointsCommand } = await import('@aws-sdk/client-s3-control');
  return tokenPages('ListAccessPoints', async (NextToken) => {
    const out = await limit(() =>
      control.send(
        new ListAccessPointsCommand({ AccountId: accountId, MaxResults: PAGE, NextToken }),
        abortOption(signal),
      ),
    );
    return { items: out.AccessPointList ?? [], next: out.NextToken };
  });
}
