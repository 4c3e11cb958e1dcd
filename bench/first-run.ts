import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report } from './common.js';

/** The target for `npm start`'s first line after `npm ci` (issue 25). */
const TARGET_MS = 3000;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Milliseconds from spawning a command to its first line on stdout; the command runs to its end. */
function firstLine(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first: number | undefined;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (chunk: Buffer) => {
      if (first === undefined && chunk.includes(10)) first = performance.now() - started;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || first === undefined)
        reject(new Error(`${command} ${args.join(' ')} exited ${code} before a first line`));
      else resolve(first);
    });
  });
}

/**
 * `npm start` as a newcomer runs it after `npm ci`: the real npm script (a build that finds
 * nothing changed, then the demo), time to its first line, median of 5, into a new store (the
 * demo stores its two days) and into that store again (the demo finds them and stores
 * nothing); against the way before (every run rebuilding the nine bundles: `build.mjs
 * --force`). Target: 3 s.
 */
export async function benchFirstRun(quick: boolean): Promise<void> {
  const runs = quick ? 3 : 5;
  const work = mkdtempSync(join(tmpdir(), 's3scan-start-bench-'));
  try {
    const fresh: number[] = [];
    const again: number[] = [];
    const rebuilt: number[] = [];
    // As npm ci leaves it: its prepare script built the bundles (npm run bench's own build
    // added the benchmarks, which npm start would otherwise rebuild without, once).
    await firstLine('sh', ['-c', 'node build.mjs && echo built']);
    for (let i = 0; i < runs; i++) {
      const store = join(work, `store-${i}`);
      const start = ['start', '--silent', '--', '--no-serve', '--store', store];
      fresh.push(await firstLine('npm', start));
      again.push(await firstLine('npm', start));
      rebuilt.push(
        await firstLine('sh', [
          '-c',
          `node build.mjs --force >/dev/null && node bin/s3scan.js demo --no-serve --store ${join(work, `naive-${i}`)}`,
        ]),
      );
    }
    // The last forced build left dist/ as npm start builds it: nothing stale for later benches.
    const row = (metric: string, values: number[], what: string) =>
      report({
        bench: 'first-run',
        metric,
        value: median(values),
        unit: 'ms',
        note: `${what}: first line in ${median(values).toFixed(0)} ms (median of ${runs}: ${values.map((v) => v.toFixed(0)).join(', ')}); ${(median(values) / TARGET_MS).toFixed(2)} of the ${TARGET_MS} ms target`,
      });
    row('npm-start-new-store-ms', fresh, 'npm start into a new store');
    row('npm-start-again-ms', again, 'npm start again into the same store (one demo history)');
    row(
      'rebuild-every-run-ms',
      rebuilt,
      'the way before: every run rebuilding the bundles (build.mjs --force), then the demo',
    );
    report({
      bench: 'first-run',
      metric: 'npm-start-vs-rebuild',
      value: median(fresh) / median(rebuilt),
      unit: 'x',
      note: `npm start's first line takes ${(median(fresh) / median(rebuilt)).toFixed(2)} of the time it took when every run rebuilt the bundles`,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
