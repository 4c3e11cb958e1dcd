import { SingleBar } from 'cli-progress';
import type { CollectProgress } from '../collect/scan.js';
import type { CliIo } from './io.js';

/** Progress of a long scan on stderr: a bar on a terminal, a line per 10 % otherwise. */
export function createProgress(io: CliIo): {
  update: (p: CollectProgress) => void;
  stop: () => void;
} {
  if (io.stderrIsTty) {
    const bar = new SingleBar({
      format: 'buckets {bar} {value}/{total} done, {errors} with errors',
      stream: process.stderr,
      hideCursor: true,
    });
    let started = false;
    let stopped = false;
    return {
      update: (p) => {
        if (!started) {
          bar.start(p.total, p.done, { errors: p.errors });
          started = true;
        } else bar.update(p.done, { errors: p.errors });
      },
      stop: () => {
        if (started && !stopped) bar.stop();
        stopped = true;
      },
    };
  }
  let lastDecile = -1;
  return {
    update: (p) => {
      const decile = p.total === 0 ? 10 : Math.floor((p.done / p.total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        io.stderr(`buckets ${p.done}/${p.total} done, ${p.errors} with errors\n`);
      }
    },
    stop: () => undefined,
  };
}
