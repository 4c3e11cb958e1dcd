import { type Finding, SEVERITIES, type Severity } from '../engine/types.js';

/** Which failing findings a plan takes. */
export interface FixFilters {
  buckets?: readonly string[];
  rules?: readonly string[];
  accounts?: readonly string[];
  /** At least this severe. */
  severity?: Severity;
}

/** Whether the filters select a finding (its bucket, rule, account and severity), unsuppressed. */
export function selectedBy(filters: FixFilters, f: Finding): boolean {
  return (
    !f.suppression &&
    (!filters.buckets || filters.buckets.includes(f.resource.name)) &&
    (!filters.rules || filters.rules.includes(f.ruleId)) &&
    (!filters.accounts || filters.accounts.includes(f.resource.account)) &&
    (!filters.severity || SEVERITIES.indexOf(f.severity) <= SEVERITIES.indexOf(filters.severity))
  );
}
