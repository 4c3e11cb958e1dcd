import type { EvaluationResult } from '../engine/evaluate.js';
import { DEFAULT_EVALUATION_CONFIG, type EvaluationConfig, evaluate } from '../engine/evaluate.js';
import type { ScanEvidence } from '../evidence/types.js';
import { ACCESS_POINT_RULES, ACCOUNT_RULES, BUCKET_RULES, LISTING_RULES } from '../rules/index.js';

/**
 * Judges a scan's evidence with s3scan's rule catalogue: the engine with every bucket rule
 * and, for organisation-wide scans, every account rule.
 * Every host (CLI, Lambda, Step Functions) evaluates through this, so they judge alike.
 */
export function evaluateScan(
  evidence: ScanEvidence,
  config: EvaluationConfig = DEFAULT_EVALUATION_CONFIG,
): EvaluationResult {
  return evaluate(evidence, config, BUCKET_RULES, ACCOUNT_RULES, LISTING_RULES, ACCESS_POINT_RULES);
}
