// Bundles the CLI (and, later, each Lambda) with esbuild. Runs on `npm ci` through `prepare`,
// so `npx s3scan` works right after install with no other step.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

// Built once, rebuilt only when an input changed: a digest of every source the bundles are
// made of (and of this script, the lockfile and the flags) is kept beside them, so `npm start`
// after `npm ci` starts the demo at once instead of rebuilding nine bundles each run.
const STAMP = 'dist/.build-digest';
const sources = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
const inputs = [
  ...[
    'lib',
    'functions',
    'web',
    ...(process.argv.includes('--bench') ? ['bench', 'tests/helpers'] : []),
  ].flatMap(sources),
  'build.mjs',
  'package.json',
  'package-lock.json',
];
const digest = createHash('sha256');
for (const file of inputs) digest.update(file).update('\0').update(readFileSync(file));
digest.update(
  process.argv
    .slice(2)
    .filter((a) => a !== '--force')
    .join(' '),
);
const inputDigest = digest.digest('hex');
if (
  !process.argv.includes('--force') &&
  existsSync(STAMP) &&
  readFileSync(STAMP, 'utf8').trim() === inputDigest
) {
  process.exit(0);
}

// lib/version.ts: the version is inlined, so bundles need no package.json beside them.
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const define = { __S3SCAN_VERSION__: JSON.stringify(version) };

const bundleRequire = {
  js: "import { createRequire as __s3scanCreateRequire } from 'node:module'; const require = __s3scanCreateRequire(import.meta.url);",
};

// What every Node bundle shares: ESM for Node 20 and 22, the version inlined, and (some
// CommonJS dependencies call require()) a require of its own.
const nodeBundle = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  banner: bundleRequire,
  define,
};

// `node build.mjs --bench` bundles the benchmarks the same way, so they measure shipped code.
if (process.argv.includes('--bench')) {
  await build({
    entryPoints: ['bench/run.ts'],
    outfile: 'dist/bench/run.js',
    // DuckDB loads a native binding per platform: resolve it from node_modules at run time.
    // playwright-core resolves its own files at run time: it stays a package, not bundled.
    external: ['@duckdb/*', 'playwright-core'],
    ...nodeBundle,
  });
}

await build({
  entryPoints: ['lib/cli/main.ts'],
  // package.json and demo/ are read relative to dist/cli/, as they are from lib/cli/.
  outfile: 'dist/cli/main.js',
  sourcemap: 'linked',
  ...nodeBundle,
});

// The inventory worker beside each bundle that reads inventories on every core (the CLI, the
// benchmarks): lib/collect/objects/inventory-workers.ts starts it from beside itself.
await Promise.all(
  ['dist/cli', ...(process.argv.includes('--bench') ? ['dist/bench'] : [])].map((dir) =>
    build({
      entryPoints: ['lib/collect/objects/inventory-worker.ts'],
      outfile: `${dir}/inventory-worker.js`,
      ...nodeBundle,
    }),
  ),
);

// The dashboard page (web/): one script, one style sheet and the HTML, in dist/web/.
await build({
  entryPoints: ['web/app.ts'],
  outfile: 'dist/web/app.js',
  bundle: true,
  minify: true,
  platform: 'browser',
  target: 'es2022',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
});
await mkdir('dist/web', { recursive: true });
await copyFile('web/index.html', 'dist/web/index.html');
await copyFile('web/app.css', 'dist/web/app.css');

// One bundle per Lambda in dist/functions/<name>/, the SDK bundled at the pinned versions.
// osls packages each folder on its own (serverless.yml `package.patterns`).
const functions = readdirSync('functions').filter((f) => f.endsWith('.ts'));
await Promise.all(
  functions.map(async (file) => {
    const name = file.replace(/\.ts$/, '');
    const outdir = `dist/functions/${name}`;
    await build({
      entryPoints: { index: `functions/${file}` },
      outdir,
      // Code only some invocations need (the alert sinks and their SDK clients) is a chunk
      // loaded by import() when it is needed, not at every cold start.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      minify: true,
      sourcemap: 'linked',
      ...nodeBundle,
    });
    await mkdir(outdir, { recursive: true });
    await writeFile(`${outdir}/package.json`, '{"type":"module"}\n');
  }),
);
// The page publisher (a custom resource) ships the built page with it.
await mkdir('dist/functions/publish-page/web', { recursive: true });
for (const file of ['index.html', 'app.js', 'app.css'])
  await copyFile(`dist/web/${file}`, `dist/functions/publish-page/web/${file}`);

await writeFile(STAMP, `${inputDigest}\n`);
