// Lambda bundle size and cold module-load time on Node 22 (issue 5). Paths relative to dist/bench/.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { staticGraph } from '../tests/helpers/static-graph.js';
import { report } from './common.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Size of each bundle, and its median cold load in fresh Node 22 processes. */
export function benchBundles(quick: boolean): void {
  const node22 = execFileSync('bash', [`${root}scripts/node22.sh`], { encoding: 'utf8' }).trim();
  const runs = quick ? 3 : 7;
  for (const name of readdirSync(`${root}dist/functions`).sort()) {
    const bundle = `${root}dist/functions/${name}/index.js`;
    // What a cold start loads: index.js and the chunks it imports statically (chunks behind
    // import(), such as the alert sinks, load only when an invocation needs them).
    const loaded = [...staticGraph(bundle)];
    const bytes = loaded.reduce((n, file) => n + statSync(file).size, 0);
    const all = readdirSync(`${root}dist/functions/${name}`, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.js'))
      .reduce((n, f) => n + statSync(`${root}dist/functions/${name}/${f}`).size, 0);
    report({
      bench: 'bundle',
      metric: `${name}-size`,
      value: bytes / 2 ** 20,
      unit: 'MiB',
      note: `minified ESM, SDK bundled: index.js and its ${loaded.length - 1} static chunks; ${(all / 2 ** 20).toFixed(2)} MiB with the lazy chunks; target < 1.5 MiB`,
    });
    const loads = Array.from({ length: runs }, () => {
      const out = execFileSync(
        node22,
        [`${root}scripts/smoke-bundle.mjs`, bundle, '"not an object"'],
        { encoding: 'utf8' },
      );
      return (JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { loadMs: number }).loadMs;
    }).sort((a, b) => a - b);
    const median = loads[Math.floor(loads.length / 2)] ?? 0;
    report({
      bench: 'bundle',
      metric: `${name}-cold-load`,
      value: median,
      unit: 'ms',
      note: `median of ${runs} fresh Node 22 processes (${loads.map((l) => l.toFixed(0)).join(', ')} ms); target < 300 ms`,
    });
    report({
      bench: 'bundle',
      metric: `${name}-cold-load-vs-target`,
      value: median / 300,
      unit: 'ratio',
      note: 'cold load / 300 ms (lower is better)',
    });
  }
}
