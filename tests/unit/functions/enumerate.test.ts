import { describe, expect, it } from 'vitest';
import { defaultObjectMode } from '../../../functions/enumerate.js';
import { ConfigError } from '../../../lib/errors.js';

describe('The scheduled scan default object mode (serverless.yml objectAccess)', () => {
  it.each([
    [undefined, 'auto'],
    ['', 'auto'],
    ['none', 'none'],
    ['inventory', 'inventory'],
    ['auto', 'auto'],
  ] as const)('DEFAULT_OBJECT_MODE %s means %s', (value, mode) => {
    expect(defaultObjectMode(value)).toBe(mode);
  });

  it('refuses a value it does not know, naming the ones it does', () => {
    expect(() => defaultObjectMode('everything')).toThrow(ConfigError);
    expect(() => defaultObjectMode('everything')).toThrow(
      /DEFAULT_OBJECT_MODE "everything" is not one of none, sample, full, inventory, auto/,
    );
  });
});
