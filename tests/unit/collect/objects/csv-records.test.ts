import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CsvRecordError,
  CsvRecordSplitter,
  type CsvRecordView,
  FieldInterner,
  fieldDigits,
  fieldEndsWith,
  fieldEquals,
  fieldText,
} from '../../../../lib/collect/objects/csv-records.js';

/** Splits `bytes` fed in the given chunks; returns every record as strings. */
function splitAll(bytes: Buffer, cuts: number[]): string[][] {
  const records: string[][] = [];
  const splitter = new CsvRecordSplitter((record) =>
    records.push(Array.from({ length: record.count }, (_, i) => fieldText(record, i))),
  );
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    splitter.push(bytes.subarray(from, Math.max(from, cut)));
    from = Math.max(from, cut);
  }
  splitter.push(bytes.subarray(from));
  splitter.end();
  return records;
}

/** RFC 4180 encoding: quote a field when it must be (or when asked to). */
function encode(records: string[][], quoteAll: boolean, eol: string, trailing: boolean): string {
  const field = (value: string) =>
    quoteAll || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  return records.map((r) => r.map(field).join(',')).join(eol) + (trailing ? eol : '');
}

const fieldValue = fc
  .array(fc.constantFrom('a', 'Z', '0', ' ', '"', ',', '\n', '\r\n', 'ü', '文', '🔐', '%2F', '+'), {
    maxLength: 8,
  })
  .map((parts) => parts.join(''));

describe('CsvRecordSplitter', () => {
  it('splits like csv-parse for any quoting, line end and chunking', () => {
    fc.assert(
      fc.property(
        // Two fields at least: a lone empty field is a blank line, which both skip.
        fc.array(fc.array(fieldValue, { minLength: 2, maxLength: 6 }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.boolean(),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.nat({ max: 400 }), { maxLength: 12 }),
        (records, quoteAll, eol, trailing, cuts) => {
          // Prepare
          const bytes = Buffer.from(encode(records, quoteAll, eol, trailing), 'utf8');
          // Act
          const mine = splitAll(bytes, cuts);
          // Assess
          const reference = parse(bytes, {
            relax_column_count: true,
            skip_empty_lines: true,
            record_delimiter: eol,
          }) as string[][];
          expect(mine).toEqual(reference);
          expect(mine).toEqual(records);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('cuts a chunk anywhere, even inside a multi-byte character or a "" escape', () => {
    // Prepare
    const text = '"a""b","ü文","x"\r\n"c","","🔐"\n';
    const bytes = Buffer.from(text, 'utf8');
    // Act
    const byCut = Array.from({ length: bytes.length + 1 }, (_, cut) => splitAll(bytes, [cut]));
    // Assess
    for (const records of byCut)
      expect(records).toEqual([
        ['a"b', 'ü文', 'x'],
        ['c', '', '🔐'],
      ]);
  });

  it('skips blank lines and reads a last record without a newline', () => {
    expect(splitAll(Buffer.from('\n"a","b"\n\r\n\n"c",d'), [])).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('refuses a record that never ends instead of buffering the whole file', () => {
    // Prepare: an unbalanced quote swallows every following line.
    const splitter = new CsvRecordSplitter(() => undefined, 1024);
    const line = Buffer.from('"bucket","key\n');
    // Act
    const attempt = () => {
      for (let i = 0; i < 200; i++) splitter.push(line);
    };
    // Assess
    expect(attempt).toThrow(CsvRecordError);
    expect(attempt).toThrow(/runs past 1024 bytes without ending: an unbalanced quote/);
  });
});

describe('field readers', () => {
  function firstRecord(text: string, read: (record: CsvRecordView) => unknown): unknown {
    let result: unknown;
    const splitter = new CsvRecordSplitter((record) => {
      result ??= read(record);
    });
    splitter.push(Buffer.from(text, 'utf8'));
    splitter.end();
    return result;
  }

  it('compare, test suffixes and read digits without decoding', () => {
    const line = '"true","1234567","12a","","data/x.json.instruction","tr""ue"\n';
    expect(
      firstRecord(line, (r) => [
        fieldEquals(r, 0, 'true'),
        fieldEquals(r, 0, 'tru'),
        fieldEquals(r, 5, 'tr"ue'),
        fieldEquals(r, 9, ''),
        fieldDigits(r, 1),
        fieldDigits(r, 2),
        fieldDigits(r, 3),
        fieldDigits(r, 9),
        fieldEndsWith(r, 4, '.instruction'),
        fieldEndsWith(r, 0, '.instruction'),
      ]),
    ).toEqual([true, false, true, true, 1234567, undefined, undefined, undefined, true, false]);
  });

  it('interns repeated values and stops growing past its capacity', () => {
    // Prepare
    const interner = new FieldInterner(2);
    const texts: string[] = [];
    const splitter = new CsvRecordSplitter((record) => texts.push(interner.text(record, 0)));
    // Act
    splitter.push(Buffer.from('SSE-S3,x\nSSE-KMS,x\nSSE-S3,x\nNEW-1,x\nNEW-2,x\n"A""B",x\n'));
    splitter.end();
    // Assess
    expect(texts).toEqual(['SSE-S3', 'SSE-KMS', 'SSE-S3', 'NEW-1', 'NEW-2', 'A"B']);
    expect(interner.size).toBe(2);
    expect(interner.text({ ...emptyView(), count: 0 }, 0)).toBe('');
  });
});

function emptyView(): CsvRecordView {
  return {
    bytes: Buffer.alloc(0),
    count: 0,
    start: new Int32Array(1),
    end: new Int32Array(1),
    escaped: new Uint8Array(1),
  };
}
