import type { OrganizationsClient, PolicySummary, Root } from '@aws-sdk/client-organizations';
import pLimit from 'p-limit';
import { errorCode } from '../aws/errors.js';
import { CollectError } from '../errors.js';
import type { Probe } from '../evidence/probe.js';
import type { AccountPolicyLayers, OrganizationPolicy, PolicyTarget } from '../evidence/types.js';
import { tokenPages } from './pages.js';
import { probeFromError } from './probe.js';

/**
 * IAM actions the scanner's own credentials need to read the organisation policies that
 * apply to each scanned account: the management account has them; a member needs a
 * delegation policy granting them (effective-policies.md section 2.3).
 */
export const POLICY_LAYER_IAM_ACTIONS = [
  'organizations:DescribeOrganization',
  'organizations:ListRoots',
  'organizations:ListParents',
  'organizations:ListPoliciesForTarget',
  'organizations:DescribePolicy',
] as const;

/** The two authorization policy types s3scan reads. */
export type AuthorizationPolicyType = 'RESOURCE_CONTROL_POLICY' | 'SERVICE_CONTROL_POLICY';

/** What reading the policy layers cost, for the scan's stats and the benchmark. */
export interface PolicyLayerResult {
  layers: AccountPolicyLayers[];
  /** Organizations calls made (pages counted one by one). */
  calls: number;
}

/** Parents never nest deeper than this: Organizations allows five OU levels under the root. */
const MAX_PATH_DEPTH = 8;

/**
 * Reads, once per scan, the resource control policies (RCPs) and service control policies
 * (SCPs) that apply to each account: those attached to the root, to every OU on the account's
 * path and to the account itself (ListParents up to the root, ListPoliciesForTarget filtered
 * by type, DescribePolicy). Parents, attachments and documents are cached per target and per
 * policy id, so an OU shared by many accounts is read once. Never throws: a failure is the
 * probe of the accounts it concerns (`denied` when the scanner is not the management account
 * or a delegated administrator, never read as "none").
 *
 * @example
 * const { layers } = await collectPolicyLayers(client, ['111122223333']);
 */
export async function collectPolicyLayers(
  client: Pick<OrganizationsClient, 'send'>,
  accountIds: readonly string[],
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<PolicyLayerResult> {
  // Loaded when used: a scan's bundle need not carry Organizations at cold start.
  const {
    DescribeOrganizationCommand,
    DescribePolicyCommand,
    ListParentsCommand,
    ListPoliciesForTargetCommand,
    ListRootsCommand,
  } = await import('@aws-sdk/client-organizations');
  let calls = 0;
  // Typed per call by the caller: the client's union of commands does not narrow per command.
  const send = async <T>(command: object): Promise<T> => {
    calls += 1;
    return (await client.send(
      command as never,
      options.signal ? { abortSignal: options.signal } : {},
    )) as T;
  };
  const ids = [...new Set(accountIds)].sort();
  const everyAccount = (
    probe: Probe<OrganizationPolicy[]>,
    extra: Partial<AccountPolicyLayers> = {},
  ): PolicyLayerResult => ({
    layers: ids.map((accountId) => ({ accountId, ...extra, rcps: probe, scps: probe })),
    calls,
  });

  let organization: { Id?: string; MasterAccountId?: string; FeatureSet?: string };
  try {
    const out = await send<{ Organization?: typeof organization }>(
      new DescribeOrganizationCommand({}),
    );
    organization = out.Organization ?? {};
  } catch (error) {
    if (errorCode(error) === 'AWSOrganizationsNotInUseException')
      return everyAccount({ absent: 'NotInOrganization' });
    return everyAccount(probeFromError(error, []));
  }
  const orgFacts: Partial<AccountPolicyLayers> = {
    ...(organization.Id ? { organizationId: organization.Id } : {}),
    ...(organization.MasterAccountId ? { managementAccountId: organization.MasterAccountId } : {}),
  };
  if (organization.FeatureSet === 'CONSOLIDATED_BILLING')
    return everyAccount({ absent: 'ConsolidatedBillingOnly' }, orgFacts);

  let roots: Root[];
  try {
    roots = await tokenPages('Organizations ListRoots', async (NextToken) => {
      const out = await send<{ Roots?: Root[]; NextToken?: string }>(
        new ListRootsCommand({ NextToken }),
      );
      return { items: out.Roots ?? [], next: out.NextToken };
    });
  } catch (error) {
    return everyAccount(probeFromError(error, []), orgFacts);
  }
  const root = roots[0];
  // No root at all is no answer: which types are enabled cannot be told.
  if (!root)
    return everyAccount(
      {
        error: 'NoRoot',
        message: 'ListRoots returned no root, so the enabled policy types are unknown',
      },
      orgFacts,
    );
  const enabled = (type: AuthorizationPolicyType) =>
    root?.PolicyTypes?.some((t) => t.Type === type && t.Status === 'ENABLED') === true;

  const parents = new Map<string, Promise<PolicyTarget | undefined>>();
  const attached = new Map<string, Promise<PolicySummary[]>>();
  const documents = new Map<string, Promise<string>>();
  const parentOf = (childId: string) => {
    let pending = parents.get(childId);
    if (!pending) {
      pending = send<{ Parents?: { Id?: string; Type?: string }[] }>(
        new ListParentsCommand({ ChildId: childId }),
      ).then((out) => {
        // "A child can have only a single parent": a page is never needed.
        const parent = out.Parents?.[0];
        return parent?.Id && (parent.Type === 'ROOT' || parent.Type === 'ORGANIZATIONAL_UNIT')
          ? { id: parent.Id, type: parent.Type }
          : undefined;
      });
      parents.set(childId, pending);
    }
    return pending;
  };
  const pathOf = async (accountId: string): Promise<PolicyTarget[]> => {
    const path: PolicyTarget[] = [];
    let child = accountId;
    for (let depth = 0; depth < MAX_PATH_DEPTH; depth++) {
      const parent = await parentOf(child);
      if (!parent) throw new CollectError(`ListParents named no parent of ${child}`);
      path.unshift(parent);
      if (parent.type === 'ROOT') return path;
      child = parent.id;
    }
    throw new CollectError(`no root within ${MAX_PATH_DEPTH} levels above ${accountId}`);
  };
  const policiesOn = (target: PolicyTarget, type: AuthorizationPolicyType) => {
    const key = `${type}\u0000${target.id}`;
    let pending = attached.get(key);
    if (!pending) {
      pending = tokenPages('Organizations ListPoliciesForTarget', async (NextToken) => {
        const out = await send<{ Policies?: PolicySummary[]; NextToken?: string }>(
          new ListPoliciesForTargetCommand({ TargetId: target.id, Filter: type, NextToken }),
        );
        return { items: out.Policies ?? [], next: out.NextToken };
      });
      attached.set(key, pending);
    }
    return pending;
  };
  const contentOf = (policyId: string) => {
    let pending = documents.get(policyId);
    if (!pending) {
      pending = send<{ Policy?: { Content?: string } }>(
        new DescribePolicyCommand({ PolicyId: policyId }),
      ).then((out) => {
        const content = out.Policy?.Content;
        if (typeof content !== 'string')
          throw new CollectError(`DescribePolicy ${policyId} returned no Content`);
        return content;
      });
      documents.set(policyId, pending);
    }
    return pending;
  };
  const layerOf = async (
    path: PolicyTarget[],
    type: AuthorizationPolicyType,
  ): Promise<Probe<OrganizationPolicy[]>> => {
    if (!enabled(type)) return { absent: 'PolicyTypeNotEnabled' };
    try {
      const found: OrganizationPolicy[] = [];
      for (const target of path) {
        for (const summary of await policiesOn(target, type)) {
          if (!summary.Id) continue;
          found.push({
            id: summary.Id,
            name: summary.Name ?? summary.Id,
            ...(summary.Arn ? { arn: summary.Arn } : {}),
            ...(summary.AwsManaged !== undefined ? { awsManaged: summary.AwsManaged } : {}),
            target,
            content: await contentOf(summary.Id),
          });
        }
      }
      return { ok: found };
    } catch (error) {
      return probeFromError(error, []);
    }
  };

  // Organizations throttles bursts: a few accounts at a time, sharing the caches.
  const limit = pLimit(options.concurrency ?? 4);
  const layers = await Promise.all(
    ids.map((accountId) =>
      limit(async (): Promise<AccountPolicyLayers> => {
        if (accountId === organization.MasterAccountId)
          return {
            accountId,
            ...orgFacts,
            rcps: { absent: 'ManagementAccount' },
            scps: { absent: 'ManagementAccount' },
          };
        let path: PolicyTarget[];
        try {
          path = [...(await pathOf(accountId)), { id: accountId, type: 'ACCOUNT' }];
        } catch (error) {
          const failed = probeFromError<OrganizationPolicy[]>(error, []);
          return { accountId, ...orgFacts, rcps: failed, scps: failed };
        }
        return {
          accountId,
          ...orgFacts,
          path: path.slice(0, -1),
          rcps: await layerOf(path, 'RESOURCE_CONTROL_POLICY'),
          scps: await layerOf(path, 'SERVICE_CONTROL_POLICY'),
        };
      }),
    ),
  );
  return { layers, calls };
}
