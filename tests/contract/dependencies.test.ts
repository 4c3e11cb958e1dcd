import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  const full = join(root, dir);
  try {
    statSync(full);
  } catch {
    return [];
  }
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

function imports(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  return [...source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? '',
  );
}

describe('Dependency direction (DESIGN.md section 2)', () => {
  const pure = [
    'lib/rules',
    'lib/policy',
    'lib/engine',
    'lib/evidence',
    'lib/compliance',
    'lib/export',
  ];

  it.each(pure)('%s imports no AWS SDK and does no I/O', (dir) => {
    for (const file of sourceFiles(dir)) {
      for (const spec of imports(file)) {
        expect({ file, spec }).not.toEqual({ file, spec: expect.stringMatching(/^@aws-sdk\//) });
        if (dir !== 'lib/evidence') {
          expect({ file, spec }).not.toEqual({
            file,
            spec: expect.stringMatching(/^node:(fs|net|http|https|child_process)/),
          });
        }
      }
    }
  });

  it('lib/rules imports only lib/engine, lib/evidence and lib/policy', () => {
    for (const file of sourceFiles('lib/rules')) {
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const target = relative(root, join(root, file, '..', spec));
        expect({ file, target }).toEqual({
          file,
          target: expect.stringMatching(/^lib\/(rules|engine|evidence|policy)\//),
        });
      }
    }
  });

  it('only lib/collect, lib/report-store and lib/alerts import @aws-sdk', () => {
    for (const file of [...sourceFiles('lib'), ...sourceFiles('functions')]) {
      if (/^lib\/(collect|report-store|alerts)\//.test(file)) continue;
      expect({ file, sdk: imports(file).filter((s) => s.startsWith('@aws-sdk/')) }).toEqual({
        file,
        sdk: [],
      });
    }
  });

  it('never imports the AGPL @cloud-copilot packages from product code', () => {
    for (const file of [...sourceFiles('lib'), ...sourceFiles('functions')]) {
      expect({ file, agpl: imports(file).filter((s) => s.startsWith('@cloud-copilot/')) }).toEqual({
        file,
        agpl: [],
      });
    }
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
});
