import { DEFAULT_EVALUATION_CONFIG, policyView } from '../../lib/engine/evaluate.js';
import type { BucketContext, Rule, RuleOutcome, RuleSettings } from '../../lib/engine/types.js';
import type {
  AccountPolicyLayers,
  BucketEvidence,
  KmsKeyEvidence,
} from '../../lib/evidence/types.js';

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
