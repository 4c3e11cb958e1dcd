import type { LayerState } from '../../engine/layers.js';
import type { PolicyView } from '../../engine/types.js';
import type { EnforcingStatement, PolicyVerdicts } from '../../policy/analyze.js';

// How the policy rules say which layer decided: the bucket policy, an RCP on the account's
// path, or (for the organisation's own principals only) an SCP; and, when no layer enforces,
// whether an RCP could have and was not read.

/** "the bucket policy (statement #0 (Sid "X"))", "RCP p-abc 'EnforceTLS' attached to ou-x". */
function whoDenies(statement: EnforcingStatement): string {
  return statement.layer === 'bucket-policy'
    ? `the ${statement.statement}`
    : statement.statement.replace(/, statement #\d+( \(Sid "[^"]*"\))?$/, (_, sid) =>
        sid ? ` ${sid.trim()}` : '',
      );
}

/** `denied by the bucket policy (…) and by RCP p-… 'EnforceTLS' attached to ou-…`. */
export function enforcedByWords(statements: readonly EnforcingStatement[] | undefined): string {
  if (!statements || statements.length === 0) return '';
  const names = [...new Set(statements.map(whoDenies))];
  const shown = names.slice(0, 3);
  const more = names.length - shown.length;
  return `denied by ${shown.join(' and by ')}${more > 0 ? ` (and ${more} more)` : ''}`;
}

/** The layers that decided a verdict, for the finding's details and every export. */
export function layerDetails(
  view: PolicyView,
  verdict: keyof PolicyVerdicts,
): Record<string, unknown> {
  if (!('layers' in view) || !view.layers) return {};
  const enforcedBy = 'analysis' in view ? view.analysis.enforcedBy[verdict] : undefined;
  const scp = 'scpOnly' in view ? view.scpOnly?.[verdict] : undefined;
  return {
    ...(enforcedBy ? { enforcedBy } : {}),
    ...('bucketPolicy' in view && view.bucketPolicy ? { bucketPolicy: view.bucketPolicy } : {}),
    rcp: view.layers.rcp,
    scp: view.layers.scp,
    ...(scp ? { scpEnforcesForOrganizationPrincipalsOnly: scp } : {}),
  };
}

/** One sentence on a layer that did not enforce: why it could not, or that it was not read. */
function rcpSentence(rcp: LayerState): string {
  if (rcp.state === 'not-read')
    return ` RCPs were not read (${rcp.reason}), so an RCP enforcing this would not be seen.`;
  if (rcp.state === 'not-applicable') return ` No RCP covers it: ${rcp.reason}.`;
  return rcp.policies.length > 0
    ? ` The ${rcp.policies.length} RCP${rcp.policies.length === 1 ? '' : 's'} on the account's path do not enforce it either.`
    : '';
}

/**
 * What to add to a FAIL's message: the SCPs that enforce the rule for the organisation's own
 * principals only (never a PASS), and whether RCPs were read, do not apply, or were judged.
 */
export function failNote(view: PolicyView, verdict: keyof PolicyVerdicts): string {
  if (!('layers' in view) || !view.layers) return '';
  const scp = 'scpOnly' in view ? view.scpOnly?.[verdict] : undefined;
  const scpNames = [
    ...new Set(
      (scp ?? []).map((s) => `SCP ${s.policyId} '${s.policyName}' attached to ${s.attachedTo}`),
    ),
  ];
  const scpWords =
    scpNames.length > 0
      ? ` ${scpNames.join(' and ')} enforce${scpNames.length === 1 ? 's' : ''} it for the organisation's own principals only; requests from other accounts, anonymous requests and service-linked roles stay uncovered.`
      : '';
  const ownPolicy =
    'bucketPolicy' in view && view.bucketPolicy === 'absent'
      ? ' The bucket has no policy of its own.'
      : '';
  return `${ownPolicy}${scpWords}${rcpSentence(view.layers.rcp)}`;
}

/** ` (denied by …)` for a PASS, naming the layers that enforce it. */
export function passNote(view: PolicyView, verdict: keyof PolicyVerdicts): string {
  if (!('analysis' in view)) return '';
  const words = enforcedByWords(view.analysis.enforcedBy[verdict]);
  return words ? `: ${words}` : '';
}

/** ` (denied by …)` naming the layers that enforce a verdict, or nothing. */
export function byWhom(view: PolicyView, verdict: keyof PolicyVerdicts): string {
  if (!('analysis' in view)) return '';
  const words = enforcedByWords(view.analysis.enforcedBy[verdict]);
  return words ? ` (${words})` : '';
}
