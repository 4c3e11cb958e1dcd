import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FINDINGS_OUTPUT_SCHEMA } from '../../../lib/export/output-schema.js';
import { renderFindings } from '../../../lib/export/render.js';
import { loadEvidence } from '../../../lib/report-store/evidence-files.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { compileSchema, formatSchemaErrors } from '../../../lib/validation/json-schema.js';

const validate = compileSchema(FINDINGS_OUTPUT_SCHEMA);

async function demoOutput(): Promise<{
  summary: Record<string, unknown>;
  findings: Record<string, unknown>[];
}> {
  const evidence = await loadEvidence(
    fileURLToPath(new URL('../../../demo/demo-account.json', import.meta.url)),
  );
  const { findings, summary } = evaluateScan(evidence);
  return JSON.parse(renderFindings('json', findings, summary, { toolVersion: 't' }));
}

describe('The JSON output and its schema (schemas/findings-output.schema.json)', () => {
  it('keeps the committed JSON Schema in step with the code', () => {
    // Prepare
    const committed = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../../schemas/findings-output.schema.json', import.meta.url)),
        'utf8',
      ),
    );

    // Assess
    expect(committed).toEqual(FINDINGS_OUTPUT_SCHEMA);
  });

  it('validates the demo account’s output, every finding with its assurance', async () => {
    // Act
    const output = await demoOutput();
    const valid = validate(output);

    // Assess
    expect(formatSchemaErrors(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
    expect(output.findings.every((f) => typeof f.assurance === 'object')).toBe(true);
  });

  it.each([
    [
      'an unknown status',
      (o: { findings: Record<string, unknown>[] }) => (o.findings[0]!.status = 'MAYBE'),
      /findings\[0\]\.status/,
    ],
    [
      'a finding without a fingerprint',
      (o: { findings: Record<string, unknown>[] }) => delete o.findings[0]!.fingerprint,
      /findings\[0\]\.fingerprint/,
    ],
    [
      'a sample bound above 1',
      (o: { findings: Record<string, unknown>[] }) =>
        (o.findings[0]!.assurance = { kind: 'sample', classified: 1, listed: 9, upperBound95: 2 }),
      /findings\[0\]\.assurance/,
    ],
  ])('refuses %s, naming the field', async (_what, spoil, field) => {
    // Prepare
    const output = await demoOutput();
    spoil(output);

    // Act
    const valid = validate(output);

    // Assess
    expect(valid).toBe(false);
    expect(formatSchemaErrors(validate.errors).join('\n')).toMatch(field);
  });
});
