import { requirementsOf } from '../compliance/frameworks.js';
import type { RuleMetadata } from '../engine/types.js';
import type { RuleDocument } from './format.js';

/** The rules' documentation as the findings index stores it with a scan. */
export function ruleDocuments(rules: readonly RuleMetadata[]): RuleDocument[] {
  return rules.map((rule) => ({
    id: rule.id,
    title: rule.title,
    severity: rule.severity,
    resourceType: rule.resourceType,
    description: rule.description,
    rationale: rule.rationale,
    remediation: rule.remediation,
    references: rule.references,
    requirements: requirementsOf(rule.id),
  }));
}
