import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toOcsf } from '../../../lib/export/ocsf.js';
import { loadEvidence } from '../../../lib/report-store/evidence-files.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { OcsfSchema, ocsfViolations } from '../../helpers/ocsf.js';

/** The official OCSF 1.8.0 data files (tests/fixtures/ocsf-schema-1.8.0, copied unchanged). */
const schema = new OcsfSchema();
const complianceFinding = schema.eventClass('findings/compliance_finding.json');

async function demoFindings() {
  const evidence = await loadEvidence(
    fileURLToPath(new URL('../../../demo/demo-account.json', import.meta.url)),
  );
  return { evidence, findings: evaluateScan(evidence).findings };
}

describe('OCSF export against the official schema files', () => {
  it('every finding of the demo account is a valid Compliance Finding of the schema it names', async () => {
    // Prepare
    const { evidence, findings } = await demoFindings();

    // Act
    const records = findings.map((f) =>
      toOcsf(f, { scanTime: evidence.scanTime, toolVersion: 't' }),
    );

    // Assess: all four s3scan statuses occur, and no record breaks the class.
    expect(new Set(findings.map((f) => f.status))).toEqual(
      new Set(['PASS', 'FAIL', 'ERROR', 'SKIPPED']),
    );
    expect(records.every((r) => r.metadata.version === schema.version)).toBe(true);
    const broken = records.flatMap((r, i) =>
      ocsfViolations(schema, complianceFinding, r as unknown as Record<string, unknown>).map(
        (p) => `${findings[i]?.ruleId}: ${p}`,
      ),
    );
    expect(broken).toEqual([]);
  });

  it.each([
    ['PASS', 1, 'Pass'],
    ['FAIL', 3, 'Fail'],
    ['ERROR', 2, 'Warning'],
    ['SKIPPED', 99, 'Skipped'],
  ] as const)('maps %s to compliance.status_id %i (%s)', async (status, id, caption) => {
    // Prepare
    const { evidence, findings } = await demoFindings();
    const finding = findings.find((f) => f.status === status)!;

    // Act
    const record = toOcsf(finding, { scanTime: evidence.scanTime, toolVersion: 't' });

    // Assess
    expect(record.compliance).toMatchObject({
      status_id: id,
      status: caption,
      status_code: status,
    });
  });

  it('the validator rejects what breaks the class: a deprecated attribute, an enum value, a type, a missing required attribute and an undeclared profile', () => {
    // Prepare
    const bad = {
      class_uid: 2003,
      category_uid: 2,
      type_uid: 200301,
      activity_id: 2,
      severity_id: 4,
      severity: 'Low',
      time: '2026-11-01',
      metadata: { product: { name: 's3scan' } },
      finding_info: { uid: 'x', title: 't' },
      compliance: { status_id: 7, standards: ['s3scan'] },
      resource: { uid: 'arn:aws:s3:::b' },
      cloud: { provider: 'AWS' },
      colour: 'blue',
    };

    // Act
    const problems = ocsfViolations(schema, complianceFinding, bad);

    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        'severity_id 4 is captioned "Low", not "High"',
        'time is not an integer',
        'compliance.status_id 7 is not in its enum',
        expect.stringMatching(/^resource is deprecated since 1\.3\.0/),
        'colour is not an attribute of compliance_finding',
        'attributes of the cloud profile are used but metadata.profiles does not declare it',
        'metadata.version is required by metadata',
        'type_uid 200301 is not 200302',
      ]),
    );
  });
});
