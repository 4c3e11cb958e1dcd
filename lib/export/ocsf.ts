import { FRAMEWORKS, requirementsOf } from '../compliance/frameworks.js';
import type { Finding, RuleMetadata, Severity, Status } from '../engine/types.js';
import { RULE_CATALOGUE } from '../rules/index.js';

const SEVERITY_IDS: Record<Severity, number> = {
  informational: 1,
  low: 2,
  medium: 3,
  high: 4,
  critical: 5,
};

/**
 * OCSF compliance.status_id (objects/compliance.json): 1 Pass, 2 Warning ("the compliance
 * check did not yield a result due to missing information": an s3scan ERROR, a read that was
 * denied or failed), 3 Fail, and the base enum's 99 Other (SKIPPED, named by the source).
 */
const COMPLIANCE_STATUS: Record<Status, { id: number; name: string }> = {
  PASS: { id: 1, name: 'Pass' },
  FAIL: { id: 3, name: 'Fail' },
  ERROR: { id: 2, name: 'Warning' },
  SKIPPED: { id: 99, name: 'Skipped' },
};

const rulesById = new Map<string, RuleMetadata>(RULE_CATALOGUE.map((r) => [r.id, r]));

function frameworkName(id: string): string {
  const framework = FRAMEWORKS.find((f) => f.id === id);
  return framework ? `${framework.name} ${framework.version}` : id;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The OCSF schema version the records follow. */
export const OCSF_VERSION = '1.8.0';

/**
 * One finding as an OCSF Compliance Finding (class_uid 2003, category Findings, activity
 * Create), schema 1.8.0 with the `cloud` profile (the `cloud` attribute), declared in
 * `metadata.profiles`. No deprecated attribute: `resources` (not `resource`), and the message
 * in `status_detail` of the finding, not of `compliance` (deprecated there since 1.5.0).
 */
export function toOcsf(finding: Finding, scan: { scanTime: string; toolVersion: string }) {
  const rule = rulesById.get(finding.ruleId);
  const status = COMPLIANCE_STATUS[finding.status];
  const partition = finding.resource.arn.split(':')[1] ?? 'aws';
  const suppressed = finding.suppression?.active === true;
  const requirements = requirementsOf(finding.ruleId);
  const standards = [...new Set(requirements.map((r) => frameworkName(r.split(':')[0] ?? '')))];
  return {
    class_uid: 2003,
    class_name: 'Compliance Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: 1,
    activity_name: 'Create',
    type_uid: 200301,
    type_name: 'Compliance Finding: Create',
    time: Date.parse(scan.scanTime),
    severity_id: SEVERITY_IDS[finding.severity],
    severity: capitalise(finding.severity),
    status_id: suppressed ? 3 : 1,
    status: suppressed ? 'Suppressed' : 'New',
    message: finding.message,
    status_detail: finding.message,
    metadata: {
      version: OCSF_VERSION,
      profiles: ['cloud'],
      product: { name: 's3scan', vendor_name: 's3scan', version: scan.toolVersion },
      event_code: finding.ruleId,
      uid: finding.fingerprint,
    },
    finding_info: {
      uid: finding.fingerprint,
      title: finding.title,
      desc: finding.message,
      types: ['Software and Configuration Checks'],
    },
    compliance: {
      control: finding.ruleId,
      requirements,
      // Required by the class: the frameworks the control maps to, or s3scan's own catalogue.
      standards: standards.length > 0 ? standards : ['s3scan'],
      status_id: status.id,
      status: status.name,
      status_code: finding.status,
    },
    resources: [
      {
        uid: finding.resource.arn,
        name: finding.resource.name,
        type: finding.resource.type,
        region: finding.resource.region,
        cloud_partition: partition,
        owner: { account: { uid: finding.resource.account, type: 'AWS Account', type_id: 10 } },
      },
    ],
    cloud: {
      provider: 'AWS',
      region: finding.resource.region,
      account: { uid: finding.resource.account, type: 'AWS Account', type_id: 10 },
    },
    remediation: {
      desc: rule?.remediation.text ?? '',
      references: rule?.references ?? [],
    },
    unmapped: {
      details: finding.details,
      evidence_ref: finding.evidenceRef,
      assurance: finding.assurance ?? { kind: 'complete' },
      ...(finding.suppression ? { suppression: finding.suppression } : {}),
    },
  };
}
