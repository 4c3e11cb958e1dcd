import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors.js';
import {
  checkObjectMode,
  OBJECT_MODES,
  objectAccessOf,
  objectModeOf,
  objectRequestOf,
} from '../../../lib/scan/object-modes.js';

describe('object modes, declared once', () => {
  it('reads a mode from a setting, its fallback when unset, and names the setting when it is none', () => {
    // Act
    const read = objectModeOf('inventory', 'auto', 'DEFAULT_OBJECT_MODE');
    const unset = objectModeOf('', 'auto', 'DEFAULT_OBJECT_MODE');
    const wrong = () => objectModeOf('everything', 'auto', 'DEFAULT_OBJECT_MODE');

    // Assess
    expect([read, unset]).toEqual(['inventory', 'auto']);
    expect(wrong).toThrow(ConfigError);
    expect(wrong).toThrow(
      'DEFAULT_OBJECT_MODE "everything" is not one of none, sample, full, inventory, auto',
    );
  });

  it.each([
    ['none', ['none']],
    ['inventory', ['none', 'inventory']],
    ['all', [...OBJECT_MODES]],
  ] as const)('objectAccess %s grants exactly %j', (access, granted) => {
    // Act
    const allowed = OBJECT_MODES.filter((mode) => {
      try {
        checkObjectMode(mode, objectAccessOf(access), 'the input');
        return true;
      } catch (error) {
        expect((error as Error).message).toMatch(
          new RegExp(
            `the input asks for objects ${mode}, but this stack was deployed with objectAccess ${access}`,
          ),
        );
        return false;
      }
    });

    // Assess
    expect(allowed).toEqual(granted);
  });

  it('refuses an OBJECT_ACCESS it does not know, and reads unset as all', () => {
    expect(objectAccessOf(undefined)).toBe('all');
    expect(() => objectAccessOf('some')).toThrow(
      'OBJECT_ACCESS "some" is not one of none, inventory, all',
    );
  });

  it('maps a mode to the scan plan’s object request: nothing for none, defaults otherwise', () => {
    // Act
    const none = objectRequestOf('none', { versions: true });
    const sample = objectRequestOf('sample', {});
    const inventory = objectRequestOf('inventory', {
      versions: true,
      sampleSize: 7,
      maxInventoryAgeDays: 3,
    });

    // Assess
    expect(none).toEqual({});
    expect(sample).toEqual({ objects: { mode: 'sample', versions: false, sampleSize: 100 } });
    expect(inventory).toEqual({
      objects: { mode: 'inventory', versions: true, sampleSize: 7, maxInventoryAgeDays: 3 },
    });
  });
});
