import type { Probe } from '../evidence/probe.js';
import type { AccountPolicyLayers, BucketEvidence, OrganizationPolicy } from '../evidence/types.js';
import type { PolicyLayerDocument } from '../policy/analyze.js';

/**
 * What s3scan knows of one organisation policy type for a bucket's account:
 * - `judged`: these policies were read and their Deny statements judged with the bucket policy;
 * - `not-applicable`: none can apply, and why (not in an organisation, type not enabled,
 *   the management account, a directory bucket);
 * - `not-read`: they may exist but could not be read, and why. Never taken as "none".
 */
export type LayerState =
  | { state: 'judged'; policies: string[] }
  | { state: 'not-applicable'; reason: string }
  | { state: 'not-read'; reason: string };

/** The RCP and SCP layers of a bucket's account, as the rules describe them. */
export interface LayerStatus {
  rcp: LayerState;
  scp: LayerState;
}

const KIND_WORDS = { rcp: 'RCPs', scp: 'SCPs' } as const;

function stateOf(
  probe: Probe<OrganizationPolicy[]>,
  kind: 'rcp' | 'scp',
  layers: AccountPolicyLayers,
): LayerState {
  const words = KIND_WORDS[kind];
  const org = layers.organizationId ? `organisation ${layers.organizationId}` : 'the organisation';
  if ('ok' in probe)
    return {
      state: 'judged',
      policies: probe.ok.map((p) => `${p.id} '${p.name}' attached to ${p.target.id}`),
    };
  if ('absent' in probe) {
    switch (probe.absent) {
      case 'NotInOrganization':
        return {
          state: 'not-applicable',
          reason: `account ${layers.accountId} is not in an AWS Organization, so no ${words} apply`,
        };
      case 'ConsolidatedBillingOnly':
        return {
          state: 'not-applicable',
          reason: `${org} has only consolidated billing features, so no ${words} apply`,
        };
      case 'PolicyTypeNotEnabled':
        return { state: 'not-applicable', reason: `${words} are not enabled in ${org}` };
      case 'ManagementAccount':
        return {
          state: 'not-applicable',
          reason: `${words} never apply to the management account (${layers.accountId}) of ${org}`,
        };
      default:
        return { state: 'not-read', reason: `Organizations answered ${probe.absent}` };
    }
  }
  if ('denied' in probe)
    return {
      state: 'not-read',
      reason: `Organizations denied the read (${probe.denied}): scan from the management account or a delegated administrator allowed organizations:ListParents, ListPoliciesForTarget and DescribePolicy`,
    };
  return {
    state: 'not-read',
    reason: `the Organizations read failed (${probe.error}: ${probe.message})`,
  };
}

/** The layers of a bucket's account, or why they are unknown or cannot apply. */
export function layerStatus(
  layers: AccountPolicyLayers | undefined,
  bucket: Pick<BucketEvidence, 'kind'>,
): LayerStatus {
  if (!layers) {
    const notRead: LayerState = {
      state: 'not-read',
      reason: "this scan did not read the organisation's policies",
    };
    return { rcp: notRead, scp: notRead };
  }
  return {
    rcp:
      bucket.kind === 'directory'
        ? {
            state: 'not-applicable',
            reason: 'RCPs do not cover directory buckets (s3express is not an RCP service)',
          }
        : stateOf(layers.rcps, 'rcp', layers),
    scp: stateOf(layers.scps, 'scp', layers),
  };
}

/** An account's layer documents, built once per account and shared by its buckets. */
interface AccountDocuments {
  rcps: PolicyLayerDocument[];
  /** The SCPs with a Deny (the others cannot add a verdict). */
  scpDenies: PolicyLayerDocument[];
  /** Those SCPs after the RCPs. */
  rcpsAndScpDenies: PolicyLayerDocument[];
}

const documentsByAccount = new WeakMap<AccountPolicyLayers, AccountDocuments>();

function documentsOf(
  probe: Probe<OrganizationPolicy[]>,
  kind: 'rcp' | 'scp',
): PolicyLayerDocument[] {
  if (!('ok' in probe)) return [];
  return probe.ok.map((p) => ({
    kind,
    policyId: p.id,
    policyName: p.name,
    attachedTo: p.target.id,
    document: p.content,
  }));
}

/**
 * The policy documents of an account's layers, for the analyzer; none unless they were read.
 * The same arrays for every bucket of the account, so the analysis cache keys them once.
 */
export function accountDocuments(layers: AccountPolicyLayers | undefined): AccountDocuments {
  if (!layers) return { rcps: [], scpDenies: [], rcpsAndScpDenies: [] };
  let documents = documentsByAccount.get(layers);
  if (!documents) {
    const rcps = documentsOf(layers.rcps, 'rcp');
    const scpDenies = documentsOf(layers.scps, 'scp').filter((d) => /"Deny"/.test(d.document));
    documents = { rcps, scpDenies, rcpsAndScpDenies: [...rcps, ...scpDenies] };
    documentsByAccount.set(layers, documents);
  }
  return documents;
}
