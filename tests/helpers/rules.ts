import { DEFAULT_EVALUATION_CONFIG, policyView, ruleEnabled } from '../../lib/engine/evaluate.js';
import type { BucketContext, Rule, RuleOutcome, RuleSettings } from '../../lib/engine/types.js';
import type {
  AccountPolicyLayers,
  BucketEvidence,
  KmsKeyEvidence,
} from '../../lib/evidence/types.js';
import { BUCKET_RULES } from '../../lib/rules/index.js';

/** The bucket rules the default config runs: one of the two upload-header rules is off. */
export const DEFAULT_BUCKET_RULES = BUCKET_RULES.filter((r) =>
  ruleEnabled(r, DEFAULT_EVALUATION_CONFIG),
);

/** Runs one rule on one bucket, the way the engine does. */
export function runRule(
  rule: Rule,
  bucket: BucketEvidence,
  keys: KmsKeyEvidence[] = [],
  settings: Partial<RuleSettings> = {},
  layers?: AccountPolicyLayers,
): RuleOutcome {
  const context: BucketContext = {
    bucket,
    kmsKeys: Object.fromEntries(keys.map((k) => [k.ref, k])),
    scanTime: '2026-11-01T06:00:00.000Z',
    settings: { ...DEFAULT_EVALUATION_CONFIG.settings, ...settings },
    policy: () => policyView(bucket, layers),
  };
  const outcome = rule.evaluate(context);
  // Every message names the bucket and ends with a period (style rule for status messages).
  if (!outcome.message.includes(bucket.name) || !outcome.message.endsWith('.')) {
    throw new Error(`badly formed message: ${outcome.message}`);
  }
  return outcome;
}
