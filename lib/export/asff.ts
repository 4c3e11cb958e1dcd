import { requirementsOf } from '../compliance/frameworks.js';
import type { Finding, RuleMetadata, Status } from '../engine/types.js';
import { RULE_CATALOGUE } from '../rules/index.js';
import { describeAssurance } from './assurance.js';

/** The policy layers that enforce a policy verdict, as one product field (names only). */
function enforcedBy(finding: Finding): Record<string, string> {
  const by = finding.details.enforcedBy as { statement?: string }[] | undefined;
  if (!Array.isArray(by) || by.length === 0) return {};
  return { 's3scan/EnforcedBy': clip(by.map((s) => s.statement ?? '').join('; '), 1024) };
}

const COMPLIANCE: Record<Status, string> = {
  PASS: 'PASSED',
  FAIL: 'FAILED',
  ERROR: 'NOT_AVAILABLE',
  SKIPPED: 'NOT_AVAILABLE',
};

const rulesById = new Map<string, RuleMetadata>(RULE_CATALOGUE.map((r) => [r.id, r]));

/** ASFF limits Description to 1024 characters. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * One finding in the AWS Security Finding Format, ready for Security Hub BatchImportFindings
 * (the account's default product ARN, in the bucket's region). A PASS is what Security Hub
 * makes of a passed control: severity INFORMATIONAL (the rule's own in
 * `FindingProviderFields`). `firstSeen` (when the FAIL was first seen) sets `CreatedAt` and
 * `FirstObservedAt`; without it they are the scan time. SKIPPED findings are not ASFF: see
 * {@link asffFindings}.
 */
export function toAsff(
  finding: Finding,
  scan: { scanTime: string; toolVersion: string },
  firstSeen?: string,
) {
  const { account, region, arn } = finding.resource;
  const partition = arn.split(':')[1] ?? 'aws';
  const rule = rulesById.get(finding.ruleId);
  const suppressed = finding.suppression?.active === true;
  const severity = finding.status === 'PASS' ? 'INFORMATIONAL' : finding.severity.toUpperCase();
  return {
    SchemaVersion: '2018-10-08',
    Id: `s3scan/${finding.fingerprint}`,
    ProductArn: `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`,
    GeneratorId: `s3scan/${finding.ruleId}`,
    AwsAccountId: account,
    Types: ['Software and Configuration Checks/AWS Security Best Practices'],
    CreatedAt: firstSeen ?? scan.scanTime,
    FirstObservedAt: firstSeen ?? scan.scanTime,
    LastObservedAt: scan.scanTime,
    UpdatedAt: scan.scanTime,
    Severity: { Label: severity },
    FindingProviderFields: {
      Severity: { Label: severity, Original: finding.severity },
      Types: ['Software and Configuration Checks/AWS Security Best Practices'],
    },
    Title: clip(finding.title, 256),
    Description: clip(finding.message, 1024),
    Remediation: rule
      ? { Recommendation: { Text: clip(rule.remediation.text, 512), Url: rule.references[0] } }
      : undefined,
    ProductFields: {
      ProviderName: 's3scan',
      ProviderVersion: scan.toolVersion,
      's3scan/RuleId': finding.ruleId,
      's3scan/Status': finding.status,
      's3scan/EvidenceRef': finding.evidenceRef,
      's3scan/Assurance': describeAssurance(finding.assurance),
      ...enforcedBy(finding),
    },
    Resources: [
      {
        // Security Hub's resource types: a bucket, or the account an org scan could not read.
        Type:
          finding.resource.type === 'AWS::::Account'
            ? 'AwsAccount'
            : finding.resource.type === 'AWS::S3::AccessPoint'
              ? 'AwsS3AccessPoint'
              : 'AwsS3Bucket',
        Id: arn,
        Partition: partition,
        Region: region,
      },
    ],
    Compliance: {
      Status: COMPLIANCE[finding.status],
      RelatedRequirements: requirementsOf(finding.ruleId).slice(0, 32),
    },
    Workflow: { Status: suppressed ? 'SUPPRESSED' : 'NEW' },
    RecordState: 'ACTIVE',
  };
}

/**
 * The ASFF of a scan's findings: every one but SKIPPED (a rule that does not apply is no
 * finding for Security Hub), with `firstSeen` by fingerprint when the store knows it.
 */
export function asffFindings(
  findings: readonly Finding[],
  scan: { scanTime: string; toolVersion: string },
  firstSeen: ReadonlyMap<string, string> = new Map(),
) {
  return findings
    .filter((f) => f.status !== 'SKIPPED')
    .map((f) => toAsff(f, scan, firstSeen.get(f.fingerprint)));
}
