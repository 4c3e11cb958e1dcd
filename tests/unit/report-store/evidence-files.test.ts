import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EvidenceError } from '../../../lib/errors.js';
import { EVIDENCE_SCHEMA } from '../../../lib/evidence/schema.js';
import { loadEvidence, parseEvidenceDocument } from '../../../lib/report-store/evidence-files.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';

const dir = mkdtempSync(join(tmpdir(), 's3scan-evidence-'));

describe('Evidence files', () => {
  it('keeps the committed JSON Schema in step with the code', () => {
    // Prepare
    const committed = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../../schemas/evidence.schema.json', import.meta.url)),
        'utf8',
      ),
    );

    // Assess
    expect(committed).toEqual(EVIDENCE_SCHEMA);
  });

  it('accepts the bundled demo account', async () => {
    // Act
    const evidence = await loadEvidence(
      fileURLToPath(new URL('../../../demo/demo-account.json', import.meta.url)),
    );

    // Assess
    expect(evidence.buckets.length).toBeGreaterThanOrEqual(15);
  });

  it.each([
    ['2.0', /unsupported evidence schemaVersion "2.0"; this s3scan reads 1.x/],
    [undefined, /unsupported evidence schemaVersion undefined/],
    [1, /unsupported evidence schemaVersion 1/],
  ])('refuses schemaVersion %s with a clear error', (schemaVersion, message) => {
    // Prepare
    const document = { ...scanEvidence([bucketEvidence('b1')]), schemaVersion };

    // Act & Assess
    expect(() => parseEvidenceDocument(document, 'x.json')).toThrow(EvidenceError);
    expect(() => parseEvidenceDocument(document, 'x.json')).toThrow(message);
  });

  it.each([
    ['yesterday', /x\.json: not valid s3scan evidence:[\s\S]*scanTime: must match pattern/],
    ['2026-11-01', /scanTime: must match pattern/],
    [
      '2026-02-30T06:00:00Z',
      /x\.json: scanTime "2026-02-30T06:00:00Z" is not a real date and time/,
    ],
    ['2026-11-01T25:00:00Z', /is not a real date and time/],
  ])('refuses evidence whose scanTime %s is not a date', (scanTime, message) => {
    // Prepare
    const document = { ...scanEvidence([bucketEvidence('b1')]), scanTime };

    // Act & Assess
    expect(() => parseEvidenceDocument(document, 'x.json')).toThrow(message);
  });

  it('names the field that breaks the schema', () => {
    // Prepare
    const bucket = { ...bucketEvidence('b1'), policy: { maybe: 'yes' } };

    // Act & Assess
    expect(() => parseEvidenceDocument(scanEvidence([bucket as never]), 'x.json')).toThrow(
      /x\.json: not valid s3scan evidence:[\s\S]*buckets\[0\]\.policy/,
    );
  });

  it('merges per-bucket files of one scan and refuses files of two scans', async () => {
    // Prepare
    const base = scanEvidence([]);
    const file = (name: string, scanId: string) => {
      const path = join(dir, `${name}.json`);
      writeFileSync(
        path,
        JSON.stringify({ ...base, scanId, buckets: undefined, bucket: bucketEvidence(name) }),
      );
      return path;
    };
    file('a', 'scan-1');
    file('b', 'scan-1');

    // Act
    const merged = await loadEvidence(dir);

    // Assess
    expect(merged.buckets.map((b) => b.name)).toEqual(['a', 'b']);
    file('c', 'scan-2');
    await expect(loadEvidence(dir)).rejects.toThrow(/different scans/);
  });

  it('reports a file that is not JSON by name', async () => {
    // Prepare
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"schemaVersion": "1.0",');

    // Act & Assess
    await expect(loadEvidence(path)).rejects.toThrow(/broken\.json: not valid JSON/);
  });
});
