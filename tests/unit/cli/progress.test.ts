import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../lib/cli/io.js';
import { createProgress } from '../../../lib/cli/progress.js';

function logIo(): { io: CliIo; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    io: {
      stdout: () => undefined,
      stderr: (text) => {
        lines.push(text);
      },
      stdin: async () => '',
      stderrIsTty: false,
      stdinIsTty: false,
      ask: async () => '',
    },
  };
}

describe('createProgress in a log (no terminal)', () => {
  it('says how the object sweep stands every 10 s, and the bucket is done only with its objects', () => {
    // Prepare
    const { io, lines } = logIo();
    let clock = 0;
    const progress = createProgress(io, () => clock);
    const at = (done: number, sweeping: Record<string, { listed: number; classified: number }>) =>
      progress.update({ done, total: 1, errors: 0, sweeping });

    // Act
    at(0, {});
    clock = 3_000;
    at(0, { 'big\nbucket': { listed: 3_000, classified: 2_000 } });
    clock = 12_000;
    at(0, { 'big\nbucket': { listed: 120_000, classified: 119_000 } });
    clock = 13_000;
    at(0, { 'big\nbucket': { listed: 121_000, classified: 120_000 } });
    clock = 25_000;
    at(1, {});

    // Assess
    expect(lines).toEqual([
      'buckets 0/1 done, 0 with errors\n',
      'buckets 0/1 done · objects: big<U+000A>bucket 120,000 listed / 119,000 classified\n',
      'buckets 1/1 done, 0 with errors\n',
    ]);
  });
});
