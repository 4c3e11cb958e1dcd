import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8ByteLength } from '../../../lib/text/utf8.js';

describe('Function: utf8ByteLength', () => {
  it('counts bytes as UTF-8 encodes them: 1 to 4 per code point', () => {
    // Prepare
    const samples = ['', 'a', 'é', '€', '😀', 'a😀é€', '\ud800', '\udc00x'];

    // Act
    const lengths = samples.map(utf8ByteLength);

    // Assess: the same as Node's encoder, lone surrogates included (as U+FFFD).
    expect(lengths).toEqual(samples.map((s) => Buffer.byteLength(s, 'utf8')));
    expect(lengths).toEqual([0, 1, 2, 3, 4, 10, 3, 4]);
  });

  it('agrees with Buffer.byteLength on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
    );
  });
});
