import type { Assurance } from '../engine/types.js';

/**
 * How much a verdict saw, in one line for the CSV, the ASFF product fields and the table:
 * `complete`, `sample: 100 of 48,210 objects, at most 2.95 % missed (95 %)`,
 * `inventory delivered 2026-10-30T00:00:00Z, 2.3 days old`, `none`.
 */
export function describeAssurance(assurance: Assurance | undefined): string {
  if (!assurance) return 'complete';
  const carried =
    'carriedFrom' in assurance && assurance.carriedFrom
      ? ` (objects as scan ${assurance.carriedFrom} counted them)`
      : '';
  switch (assurance.kind) {
    case 'complete':
      return `complete${carried}`;
    case 'none':
      return 'none';
    case 'sample': {
      const bound =
        assurance.upperBound95 !== undefined
          ? `, at most ${(assurance.upperBound95 * 100).toFixed(2)} % missed (95 % confidence)`
          : '';
      return `sample: ${assurance.classified.toLocaleString('en-US')} of ${assurance.listed.toLocaleString('en-US')} objects${bound}${carried}`;
    }
    case 'inventory':
      return `inventory delivered ${assurance.deliveredAt}, ${assurance.ageDays} days old${carried}`;
  }
}
