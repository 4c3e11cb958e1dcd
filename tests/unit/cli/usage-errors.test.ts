import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../helpers/cli-io.js';

describe('a mistyped command or flag is one line with the suggestion, not the whole help', () => {
  it.each([
    [
      ['scna'],
      "s3scan: unknown command 'scna' (did you mean scan?); s3scan --help lists the options\n",
    ],
    [
      ['scan', '--objets', 'none'],
      "s3scan: unknown option '--objets' (did you mean --objects?); s3scan scan --help lists the options\n",
    ],
    [
      ['report', '--format', 'tabel'],
      "s3scan: option '--format <format>' argument 'tabel' is invalid. Allowed choices are table, summary, json, ocsf, asff, csv; s3scan report --help lists the options\n",
    ],
    [
      ['verify', '--scna', 'x'],
      "s3scan: unknown option '--scna' (did you mean --scan?); s3scan verify --help lists the options\n",
    ],
  ])('%j', async (args, line) => {
    // Act
    const result = await runCliInProcess(args);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toBe(line);
    expect(result.out).toBe('');
  });

  it('--help still prints the whole help, exit 0', async () => {
    // Act
    const result = await runCliInProcess(['scan', '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Usage: s3scan scan \[options\]/);
  });
});
