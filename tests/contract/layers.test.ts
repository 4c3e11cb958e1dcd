import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');

interface Violation {
  rule: string;
  from: string;
}

/**
 * Runs the project's layering check over `dir` exactly as `npm run check:layers` does (the
 * `err` reporter, whose exit code is the number of errors) and reads the violations it prints.
 */
async function cruise(dir: string): Promise<{ exitCode: number; violations: Violation[] }> {
  const result = await run(
    process.execPath,
    [depcruise, 'lib', 'functions', '--config', '.dependency-cruiser.cjs'],
    { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
  ).then(
    (r) => ({ exitCode: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ exitCode: e.code, stdout: e.stdout }),
  );
  const violations = [...result.stdout.matchAll(/^\s*error (\S+): (\S+)/gm)].map((m) => ({
    rule: m[1] ?? '',
    from: m[2] ?? '',
  }));
  return { exitCode: result.exitCode, violations };
}

const fixtures: string[] = [];
afterAll(() => {
  for (const dir of fixtures) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway project with the repo's checker config, package.json imports and node_modules. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 's3scan-layers-'));
  fixtures.push(dir);
  for (const config of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json', 'biome.json'])
    cpSync(join(root, config), join(dir, config));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const base = {
    'lib/engine/types.ts': 'export interface Finding { id: string }\n',
    'lib/evidence/types.ts': 'export interface Evidence { name: string }\n',
    'lib/collect/read.ts':
      "import type { Evidence } from '../evidence/types.js';\nexport const read = (): Evidence => ({ name: 'b' });\n",
    'lib/rules/ok.ts':
      "import type { Finding } from '../engine/types.js';\nexport const ok: Finding = { id: 'ok' };\n",
    'functions/scan.ts':
      "import { read } from '../lib/collect/read.js';\nexport const handler = () => read();\n",
  };
  for (const [path, text] of Object.entries({ ...base, ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('npm run check:layers (dependency-cruiser, .dependency-cruiser.cjs)', () => {
  it('passes on this repository', async () => {
    // Act
    const { exitCode, violations } = await cruise(root);

    // Assess
    expect(violations).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('passes on a clean planted project (the fixture itself obeys the rules)', async () => {
    // Act
    const { exitCode, violations } = await cruise(project({}));

    // Assess
    expect(violations).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it.each<{ rule: string; files: Record<string, string>; from: string }>([
    {
      rule: 'rules-only-engine-evidence-policy',
      files: { 'lib/rules/bad.ts': "export { read } from '../collect/read.js';\n" },
      from: 'lib/rules/bad.ts',
    },
    {
      rule: 'pure-imports-pure',
      // An alias import must be resolved like a relative one, or it would slip through.
      files: { 'lib/policy/bad.ts': "export { read } from '#lib/collect/read.js';\n" },
      from: 'lib/policy/bad.ts',
    },
    {
      rule: 'no-node-builtins-in-pure',
      files: { 'lib/engine/bad.ts': "export { hash } from 'node:crypto';\n" },
      from: 'lib/engine/bad.ts',
    },
    {
      rule: 'engine-knows-no-rule',
      files: { 'lib/engine/bad.ts': "export { ok } from '../rules/ok.js';\n" },
      from: 'lib/engine/bad.ts',
    },
    {
      rule: 'sdk-only-in-adapters',
      files: { 'lib/dashboard/bad.ts': "export { S3Client } from '@aws-sdk/client-s3';\n" },
      from: 'lib/dashboard/bad.ts',
    },
    {
      rule: 'sdk-only-in-adapters',
      files: {
        'functions/bad.ts': "export { NodeHttpHandler } from '@smithy/node-http-handler';\n",
      },
      from: 'functions/bad.ts',
    },
    {
      rule: 'no-agpl-in-product',
      files: { 'lib/cli/bad.ts': "export * from '@cloud-copilot/iam-simulate';\n" },
      from: 'lib/cli/bad.ts',
    },
    {
      rule: 'hosts-stay-outside-lib',
      files: { 'lib/scan/bad.ts': "export { handler } from '../../functions/scan.js';\n" },
      from: 'lib/scan/bad.ts',
    },
    {
      rule: 'store-does-not-collect',
      files: { 'lib/report-store/bad.ts': "export { read } from '../collect/read.js';\n" },
      from: 'lib/report-store/bad.ts',
    },
    {
      rule: 'no-unresolvable',
      files: { 'lib/scan/bad.ts': "export { nothing } from '../collect/missing.js';\n" },
      from: 'lib/scan/bad.ts',
    },
    {
      rule: 'no-folder-cycles',
      // No module cycle here, only folders: a/x -> b/y -> a/z.
      files: {
        'lib/alpha/x.ts': "export { y } from '../beta/y.js';\n",
        'lib/beta/y.ts': "import { z } from '../alpha/z.js';\nexport const y = z;\n",
        'lib/alpha/z.ts': 'export const z = 1;\n',
      },
      from: 'lib/alpha',
    },
  ])('fails on a planted $rule violation ($from)', async ({ rule, files, from }) => {
    // Prepare
    const dir = project(files);

    // Act
    const { exitCode, violations } = await cruise(dir);

    // Assess
    expect(exitCode).not.toBe(0);
    expect(violations).toContainEqual({ rule, from });
  });

  it('fails on a planted module cycle', async () => {
    // Prepare
    const dir = project({
      'lib/cli/main.ts': "import { p } from './progress.js';\nexport const main = p;\n",
      'lib/cli/progress.ts':
        "import { main } from './main.js';\nexport const p = 1;\nexport const m = main;\n",
    });

    // Act
    const { exitCode, violations } = await cruise(dir);

    // Assess
    expect(exitCode).not.toBe(0);
    expect(violations.map((v) => v.rule)).toContain('no-module-cycles');
  });

  it('refuses Node globals (Buffer, process) in the pure folders through Biome', async () => {
    // Prepare
    const dir = project({
      'lib/policy/size.ts': 'export const size = (t: string) => Buffer.byteLength(t);\n',
      'lib/evidence/env.ts': 'export const region = () => process.env.AWS_REGION;\n',
      'lib/collect/size.ts': 'export const size = (t: string) => Buffer.byteLength(t);\n',
    });

    // Act
    const result = await run(biome, ['lint', '--max-diagnostics=50', 'lib'], { cwd: dir }).then(
      () => ({ code: 0, output: '' }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        output: `${e.stdout}${e.stderr}`,
      }),
    );

    // Assess: both pure files are flagged; the adapter folder may use Buffer.
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/lib\/policy\/size\.ts[\s\S]*noRestrictedGlobals/);
    expect(result.output).toMatch(/lib\/evidence\/env\.ts[\s\S]*noRestrictedGlobals/);
    expect(result.output).not.toMatch(/lib\/collect\/size\.ts/);
  });

  it('keeps @cloud-copilot packages out of the runtime dependencies and the bundle', () => {
    // Prepare
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const bundle = readFileSync(join(root, 'dist/cli/main.js'), 'utf8');

    // Assess
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith('@cloud-copilot/'))).toEqual(
      [],
    );
    expect(bundle).not.toMatch(/@cloud-copilot|iam-simulate/);
  });

  it('keeps every error class in lib/errors.ts, and throws no bare Error in lib/', () => {
    // Prepare
    const files = readdirSync(join(root, 'lib'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join('lib', f));

    // Act
    const offences = files.flatMap((file) => {
      const text = readFileSync(join(root, file), 'utf8');
      return [
        ...[...text.matchAll(/throw new Error\(/g)].map(() => `${file}: throw new Error`),
        ...(file === 'lib/errors.ts'
          ? []
          : [...text.matchAll(/class \w+ extends \w*Error\b/g)].map((m) => `${file}: ${m[0]}`)),
      ];
    });

    // Assess
    expect(offences).toEqual([]);
  });

  it('reads the environment in one module of functions/ (common/env.ts), and no fail point in lib/', () => {
    // Prepare
    const source = (dir: string) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(dir, f));

    // Act
    const readers = source('functions').filter(
      (file) =>
        file !== join('functions', 'common', 'env.ts') &&
        readFileSync(join(root, file), 'utf8').includes('process.env'),
    );
    const failPoints = source('lib').filter((file) =>
      /S3SCAN_(TEST_)?CRASH_AT|process\.kill\(process\.pid/.test(
        readFileSync(join(root, file), 'utf8'),
      ),
    );

    // Assess
    expect(readers).toEqual([]);
    expect(failPoints).toEqual([]);
  });
});
