import { SingleBar } from 'cli-progress';
import type { CollectProgress } from '../collect/scan.js';
import { sanitiseLine } from '../export/table.js';
import type { CliIo } from './io.js';

/** How often a log (not a terminal) is told how the object sweeps stand. */
const OBJECT_LINE_EVERY_MS = 10_000;

/** `objects: b1 120,000 listed / 119,000 classified; b2 …`, or nothing when none is swept. */
function objectsText(p: CollectProgress): string {
  const sweeps = Object.entries(p.sweeping);
  if (sweeps.length === 0) return '';
  const shown = sweeps
    .slice(0, 3)
    .map(
      ([bucket, s]) =>
        `${sanitiseLine(bucket)} ${s.listed.toLocaleString('en')} listed / ${s.classified.toLocaleString('en')} classified`,
    );
  return ` · objects: ${shown.join('; ')}${sweeps.length > 3 ? `; ${sweeps.length - 3} more` : ''}`;
}

/**
 * Progress of a long scan on stderr: a bar on a terminal, otherwise a line per 10 % of the
 * buckets and, while objects are read, a line every 10 s. A bucket counts as done once its
 * objects are, so a sweep of millions never shows "1/1 done" while it runs.
 */
export function createProgress(
  io: CliIo,
  now: () => number = Date.now,
): {
  update: (p: CollectProgress) => void;
  stop: () => void;
} {
  if (io.stderrIsTty) {
    const bar = new SingleBar({
      format: 'buckets {bar} {value}/{total} done, {errors} with errors{objects}',
      stream: process.stderr,
      hideCursor: true,
    });
    let started = false;
    let stopped = false;
    return {
      update: (p) => {
        const payload = { errors: p.errors, objects: objectsText(p) };
        if (!started) {
          bar.start(p.total, p.done, payload);
          started = true;
        } else bar.update(p.done, payload);
      },
      stop: () => {
        if (started && !stopped) bar.stop();
        stopped = true;
      },
    };
  }
  let lastDecile = -1;
  let lastObjects = now();
  return {
    update: (p) => {
      const decile = p.total === 0 ? 10 : Math.floor((p.done / p.total) * 10);
      const objects = objectsText(p);
      if (decile !== lastDecile) {
        lastDecile = decile;
        lastObjects = now();
        io.stderr(`buckets ${p.done}/${p.total} done, ${p.errors} with errors${objects}\n`);
      } else if (objects && now() - lastObjects >= OBJECT_LINE_EVERY_MS) {
        lastObjects = now();
        io.stderr(`buckets ${p.done}/${p.total} done${objects}\n`);
      }
    },
    stop: () => undefined,
  };
}
