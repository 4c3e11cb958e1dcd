import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeAggregates, ObjectAggregator } from '../../../../lib/collect/objects/aggregate.js';
import type { ObjectObservation } from '../../../../lib/evidence/object-observation.js';
import { OBJECT_ENCRYPTION_TYPES } from '../../../../lib/evidence/types.js';

/** One object as a listing, a HEAD or an inventory row gives it. */
const observation: fc.Arbitrary<{ row: ObjectObservation; fastPath: boolean }> = fc.record({
  row: fc.record({
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constant('secret.txt.instruction')),
    isLatest: fc.boolean(),
    size: fc.nat({ max: 5 * 2 ** 30 }),
    lastModified: fc.option(
      fc.constantFrom(
        '2026-01-01T00:00:00.000Z',
        '2026-06-01T00:00:00.000Z',
        '2026-11-30T23:59:59.000Z',
      ),
      { nil: undefined },
    ),
    storageClass: fc.constantFrom('STANDARD', 'GLACIER', 'INTELLIGENT_TIERING'),
    outcome: fc.oneof(
      fc.record(
        {
          kind: fc.constant('classified' as const),
          type: fc.constantFrom(...OBJECT_ENCRYPTION_TYPES),
          algorithm: fc.constantFrom('aws:fsx', 'AES256'),
          kmsKeyId: fc.constantFrom(
            'arn:aws:kms:us-east-1:111122223333:key/k1',
            'arn:aws:kms:us-east-1:111122223333:key/k2',
          ),
          clientSide: fc.constantFrom('v1' as const, 'v2' as const, 'v3' as const),
          likely: fc.constant(true),
        },
        { requiredKeys: ['kind', 'type'] },
      ),
      fc.record({ kind: fc.constant('denied' as const), code: fc.constant('AccessDenied') }),
      fc.record({
        kind: fc.constant('failed' as const),
        code: fc.constantFrom('SlowDown', 'InternalError'),
        message: fc.constant('x'),
      }),
      fc.constant({ kind: 'delete-marker' as const }),
    ),
  }) as fc.Arbitrary<ObjectObservation>,
  fastPath: fc.boolean(),
});

/** Feeds objects to an aggregator the way the readers do (the inventory hot path or add()). */
function fold(
  aggregator: ObjectAggregator,
  items: { row: ObjectObservation; fastPath: boolean }[],
) {
  for (const { row, fastPath } of items) {
    const o = row.outcome;
    if (fastPath && o.kind === 'classified' && !o.kmsKeyId && !o.clientSide && !o.likely)
      aggregator.addClassified(
        o.type,
        o.algorithm,
        row.size,
        row.storageClass,
        row.isLatest,
        row.lastModified,
        () => row.key,
        row.key.endsWith('.instruction'),
      );
    else {
      aggregator.listed(1);
      aggregator.add(row);
    }
  }
}

describe('mergeAggregates: the exact reduce of an inventory read file by file', () => {
  it('gives what one pass gives, for any split of the objects into files', () => {
    fc.assert(
      fc.property(
        fc.array(observation, { maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (items, cuts) => {
          // Prepare: the same objects in one pass, and cut into files at random points.
          const one = new ObjectAggregator('inventory', true);
          fold(one, items);
          const points = [...new Set(cuts.map((c) => (items.length ? c % items.length : 0)))].sort(
            (a, b) => a - b,
          );
          const files = [0, ...points, items.length]
            .slice(0, -1)
            .map((start, i, all) => items.slice(start, [...all, items.length][i + 1]));

          // Act
          const merged = mergeAggregates(
            files.map((file) => {
              const part = new ObjectAggregator('inventory', true);
              fold(part, file);
              return part.result(true);
            }),
          );

          // Assess
          expect(merged).toEqual(one.result(true));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps more than 100 examples out, in file order, as one pass does', () => {
    const part = (prefix: string) => {
      const a = new ObjectAggregator('inventory', false);
      for (let i = 0; i < 80; i++)
        a.addClassified('NONE', undefined, 1, 'STANDARD', true, undefined, () => `${prefix}${i}`);
      return a.result(true);
    };
    const merged = mergeAggregates([part('a'), part('b')]);
    expect(merged.byEncryption.NONE?.count).toBe(160);
    expect(merged.byEncryption.NONE?.examples).toHaveLength(100);
    expect(merged.byEncryption.NONE?.examples.slice(78, 82)).toEqual(['a78', 'a79', 'b0', 'b1']);
  });

  it('replaces a re-run item instead of counting it twice, and is incomplete while a file is', () => {
    // Prepare: items keyed by data file, as a Distributed Map's results are; file 2 ran twice.
    const results = new Map<string, ReturnType<ObjectAggregator['result']>>();
    const run = (file: string, complete: boolean) => {
      const a = new ObjectAggregator('inventory', false);
      a.addClassified('SSE-S3', undefined, 10, 'STANDARD', true, undefined, () => file);
      results.set(file, a.result(complete));
    };
    run('data/1.csv.gz', true);
    run('data/2.csv.gz', false);
    run('data/2.csv.gz', true);

    // Act
    const merged = mergeAggregates([...results.values()]);

    // Assess
    expect(merged.byEncryption['SSE-S3']?.count).toBe(2);
    expect(merged.complete).toBe(true);
    results.set('data/3.csv.gz', { ...merged, complete: false });
    expect(mergeAggregates([...results.values()]).complete).toBe(false);
    expect(() => mergeAggregates([])).toThrow(/at least one part/);
  });
});
