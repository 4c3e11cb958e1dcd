import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FingerprintTable } from '../../../lib/history/fingerprint-table.js';

const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);

describe('FingerprintTable', () => {
  it('behaves like a Map through growth, deletes and re-inserts, for hex and other keys', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('set', 'take', 'delete', 'get'),
            fc.oneof(hex32, fc.constantFrom('not-hex', 'ABCDEF', '0'.repeat(31))),
            fc.integer({ min: 0, max: 63 }),
          ),
          { maxLength: 400 },
        ),
        (operations) => {
          // Prepare: a tiny table, so it grows many times.
          const table = new FingerprintTable(1);
          const model = new Map<string, number>();

          // Act & Assess
          for (const [op, key, value] of operations) {
            if (op === 'set') {
              table.set(key, value);
              model.set(key, value);
            } else if (op === 'take') {
              expect(table.take(key)).toBe(model.get(key));
              model.delete(key);
            } else if (op === 'delete') {
              table.delete(key);
              model.delete(key);
            } else expect(table.get(key)).toBe(model.get(key));
            expect(table.size).toBe(model.size);
          }
          for (const [key, value] of model) expect(table.get(key)).toBe(value);
        },
      ),
    );
  });

  it('keeps 100,000 distinct fingerprints exactly', () => {
    // Prepare
    const table = new FingerprintTable();
    const keys = Array.from({ length: 100_000 }, (_, i) =>
      ((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(4),
    );

    // Act
    for (const [i, key] of keys.entries()) table.set(key, i % 64);

    // Assess
    expect(table.size).toBe(new Set(keys).size);
    expect(keys.every((key, i) => table.get(key) === i % 64)).toBe(true);
  });
});
