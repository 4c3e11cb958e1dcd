import type { BucketContext, PolicyView, RuleOutcome } from '../../engine/types.js';

/** A bucket policy view that was read: analysed, or absent. */
export type ReadPolicy = Exclude<PolicyView, { failed: string }>;

/**
 * The bucket's analysed policy, or ERROR when it could not be read: `unjudged` says what the
 * rule could not judge ("Could not judge TLS enforcement of bucket b"), the reason follows.
 */
export function readPolicy(context: BucketContext, unjudged: string): ReadPolicy | RuleOutcome {
  const policy = context.policy();
  if ('failed' in policy) return { status: 'ERROR', message: `${unjudged}: ${policy.failed}.` };
  return policy;
}
