import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toOcsf } from '../../../lib/export/ocsf.js';
import { loadEvidence } from '../../../lib/report-store/evidence-files.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';

/** The class 2003 attributes and enums s3scan relies on, with their sources (see the file). */
const SUBSET = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL('../../fixtures/ocsf/compliance-finding-2003.subset.json', import.meta.url),
    ),
    'utf8',
  ),
) as {
  class_uid: number;
  category_uid: number;
  required: string[];
  required_metadata: string[];
  required_finding_info: string[];
  required_compliance: string[];
  enums: Record<string, number[]>;
  captions: Record<string, Record<string, string>>;
};

const get = (record: Record<string, unknown>, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], record);

/** Every way one record breaks the subset: missing attributes, values outside an enum, wrong captions. */
function violations(record: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of SUBSET.required) if (record[key] === undefined) problems.push(`missing ${key}`);
  for (const [object, keys] of [
    ['metadata', SUBSET.required_metadata],
    ['finding_info', SUBSET.required_finding_info],
    ['compliance', SUBSET.required_compliance],
  ] as const)
    for (const key of keys)
      if (get(record, `${object}.${key}`) === undefined) problems.push(`missing ${object}.${key}`);
  if (record.class_uid !== SUBSET.class_uid) problems.push(`class_uid ${record.class_uid}`);
  if (record.category_uid !== SUBSET.category_uid)
    problems.push(`category_uid ${record.category_uid}`);
  if (record.type_uid !== SUBSET.class_uid * 100 + Number(record.activity_id))
    problems.push(`type_uid ${record.type_uid} is not class_uid * 100 + activity_id`);
  for (const [path, allowed] of Object.entries(SUBSET.enums)) {
    const value = get(record, path);
    if (!allowed.includes(value as number)) problems.push(`${path} ${value} is not in the enum`);
    // Each *_id has its caption beside it: severity_id/severity, activity_id/activity_name.
    const caption = SUBSET.captions[path]?.[String(value)];
    const label = get(record, path === 'activity_id' ? 'activity_name' : path.replace(/_id$/, ''));
    if (caption && label !== caption)
      problems.push(`${path} ${value} is captioned "${label}", not "${caption}"`);
  }
  const standards = get(record, 'compliance.standards');
  if (
    !Array.isArray(standards) ||
    standards.length === 0 ||
    standards.some((s) => typeof s !== 'string')
  )
    problems.push('compliance.standards must be a non-empty array of strings');
  return problems;
}

describe('OCSF export against the class 2003 subset', () => {
  it('every finding of the demo account is a valid Compliance Finding', async () => {
    // Prepare
    const evidence = await loadEvidence(
      fileURLToPath(new URL('../../../demo/demo-account.json', import.meta.url)),
    );
    const { findings } = evaluateScan(evidence);

    // Act
    const records = findings.map((f) =>
      toOcsf(f, { scanTime: evidence.scanTime, toolVersion: 't' }),
    );

    // Assess: all four s3scan statuses occur, and no record breaks the subset.
    expect(new Set(findings.map((f) => f.status))).toEqual(
      new Set(['PASS', 'FAIL', 'ERROR', 'SKIPPED']),
    );
    const broken = records.flatMap((r, i) =>
      violations(r as unknown as Record<string, unknown>).map(
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
    const evidence = await loadEvidence(
      fileURLToPath(new URL('../../../demo/demo-account.json', import.meta.url)),
    );
    const finding = evaluateScan(evidence).findings.find((f) => f.status === status)!;

    // Act
    const record = toOcsf(finding, { scanTime: evidence.scanTime, toolVersion: 't' });

    // Assess
    expect(record.compliance).toMatchObject({
      status_id: id,
      status: caption,
      status_code: status,
    });
  });

  it('the subset check itself rejects a record that breaks the class', () => {
    // Prepare: ERROR mapped to the old 0 Unknown, and no standards.
    const bad = {
      class_uid: 2003,
      category_uid: 2,
      type_uid: 200301,
      activity_id: 1,
      activity_name: 'Create',
      severity_id: 4,
      severity: 'High',
      status_id: 1,
      status: 'New',
      time: 1,
      metadata: { version: '1.5.0', product: { name: 's3scan' } },
      finding_info: { uid: 'x' },
      compliance: { status_id: 7, status: 'Error' },
    };

    // Act & Assess
    expect(violations(bad)).toEqual([
      'missing compliance.standards',
      'compliance.status_id 7 is not in the enum',
      'compliance.standards must be a non-empty array of strings',
    ]);
  });
});
