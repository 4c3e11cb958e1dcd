import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from '../../lib/compliance/frameworks.js';
import { SEVERITIES } from '../../lib/engine/types.js';
import { ACCOUNT_RULES, BUCKET_RULES, RULE_CATALOGUE } from '../../lib/rules/index.js';

const rulesDir = fileURLToPath(new URL('../../lib/rules/', import.meta.url));
const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');

describe('Rule registry', () => {
  it('registers every rule file, once', () => {
    // Assess
    expect(RULE_CATALOGUE.map((r) => `${r.id}.ts`).sort()).toEqual([...ruleFiles].sort());
    expect(new Set(RULE_CATALOGUE.map((r) => r.id)).size).toBe(RULE_CATALOGUE.length);
    expect(BUCKET_RULES.every((r) => r.resourceType === 'AWS::S3::Bucket')).toBe(true);
    expect(ACCOUNT_RULES.every((r) => r.resourceType === 'AWS::::Account')).toBe(true);
  });

  it.each(RULE_CATALOGUE.map((r) => [r.id, r] as const))('%s has valid metadata', (id, rule) => {
    // Assess
    expect(id).toMatch(/^s3-(bucket|objects?|account|access-point)-[a-z0-9-]+$/);
    expect(SEVERITIES).toContain(rule.severity);
    expect(rule.title.length).toBeLessThanOrEqual(150);
    expect(rule.title).not.toMatch(/^Ensure/);
    expect(rule.description.length).toBeGreaterThan(20);
    expect(rule.rationale.length).toBeGreaterThan(20);
    expect(rule.remediation.text.length).toBeGreaterThan(10);
    expect(rule.remediation.cli).toMatch(/^(aws |KEY=|npx s3scan)|\naws /m);
    expect(rule.remediation.cloudformation.length).toBeGreaterThan(10);
    expect(rule.references.length).toBeGreaterThan(0);
    for (const ref of rule.references) expect(ref).toMatch(/^https:\/\//);
    expect(rule.evidence.length).toBeGreaterThan(0);
  });

  it.each(ruleFiles)('%s documents its PASS, FAIL and ERROR conditions in TSDoc', (file) => {
    // Prepare
    const source = readFileSync(`${rulesDir}${file}`, 'utf8');
    const tsdoc = /\/\*\*([\s\S]*?)\*\/\s*export const rule/.exec(source)?.[1] ?? '';

    // Assess
    for (const status of ['PASS', 'FAIL', 'ERROR']) expect(tsdoc).toContain(status);
  });

  it('maps frameworks only to registered rules, each requirement with the basis of its mapping', () => {
    // Prepare
    const ids = new Set(BUCKET_RULES.map((r) => r.id));
    const mapped = FRAMEWORKS.flatMap((f) => f.requirements.flatMap((r) => r.rules));

    // Assess
    for (const id of mapped) expect(ids).toContain(id);
    for (const framework of FRAMEWORKS) {
      expect(framework.source).toMatch(/^https:\/\//);
      for (const requirement of framework.requirements)
        expect({ id: requirement.id, basis: requirement.basis }).toEqual({
          id: requirement.id,
          basis: expect.stringMatching(/^(https:\/\/docs\.aws\.amazon\.com\/|s3scan mapping)/),
        });
    }
    expect(FRAMEWORKS.map((f) => f.id)).toEqual([
      'aws-fsbp',
      'aws-securityhub',
      'cis-aws-foundations',
      'pci-dss',
      'nist-800-53',
    ]);
  });

  it('keeps Security Hub controls outside FSBP out of the FSBP framework', () => {
    // Prepare: S3.17 and KMS.4 are Security Hub controls whose related requirements name
    // NIST, PCI and CIS, not FSBP (securityhub userguide s3-controls and kms-controls).
    const fsbp = FRAMEWORKS.find((f) => f.id === 'aws-fsbp');
    const hub = FRAMEWORKS.find((f) => f.id === 'aws-securityhub');

    // Assess
    expect(fsbp?.requirements.map((r) => r.id)).toEqual(['S3.5', 'KMS.3']);
    expect(hub?.requirements.map((r) => r.id)).toEqual(['S3.5', 'S3.17', 'KMS.3', 'KMS.4']);
  });
});
