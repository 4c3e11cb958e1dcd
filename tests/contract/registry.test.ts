import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from '../../lib/compliance/frameworks.js';
import { SEVERITIES } from '../../lib/engine/types.js';
import { BUCKET_RULES } from '../../lib/rules/index.js';

const rulesDir = fileURLToPath(new URL('../../lib/rules/', import.meta.url));
const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');

describe('Rule registry', () => {
  it('registers every rule file, once', () => {
    // Assess
    expect(BUCKET_RULES.map((r) => `${r.id}.ts`).sort()).toEqual([...ruleFiles].sort());
    expect(new Set(BUCKET_RULES.map((r) => r.id)).size).toBe(BUCKET_RULES.length);
  });

  it.each(BUCKET_RULES.map((r) => [r.id, r] as const))('%s has valid metadata', (id, rule) => {
    // Assess
    expect(id).toMatch(/^s3-(bucket|objects?)-[a-z0-9-]+$/);
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

  it('maps frameworks only to registered rules, and cites the FSBP controls S3.5 and S3.17', () => {
    // Prepare
    const ids = new Set(BUCKET_RULES.map((r) => r.id));
    const mapped = FRAMEWORKS.flatMap((f) => f.requirements.flatMap((r) => r.rules));

    // Assess
    for (const id of mapped) expect(ids).toContain(id);
    const fsbp = FRAMEWORKS.find((f) => f.id === 'aws-fsbp');
    expect(fsbp?.requirements.map((r) => r.id)).toEqual(expect.arrayContaining(['S3.5', 'S3.17']));
    expect(FRAMEWORKS.map((f) => f.id)).toEqual([
      'aws-fsbp',
      'cis-aws-foundations',
      'pci-dss',
      'nist-800-53',
    ]);
  });
});
