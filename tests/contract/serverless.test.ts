import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3_IAM_ACTIONS } from '../../lib/collect/buckets.js';
import { KMS_IAM_ACTIONS } from '../../lib/collect/kms.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

let template: Template;

/** Every IAM statement of every role in the packaged template. */
function statements(): { Effect: string; Action: string | string[]; Resource: unknown }[] {
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Role')
    .flatMap(
      (r) =>
        (r.Properties.Policies as { PolicyDocument: { Statement: never[] } }[] | undefined) ?? [],
    )
    .flatMap((p) => p.PolicyDocument.Statement);
}

const asList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

describe('serverless.yml, packaged by the real osls (offline)', () => {
  beforeAll(() => {
    // Package exactly as `npm run package` does; no credentials, no network.
    execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: 'pipe' });
    execFileSync(join(root, 'node_modules/.bin/osls'), ['package', '--stage', 'ci'], {
      cwd: root,
      stdio: 'pipe',
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      timeout: 120_000,
    });
    template = JSON.parse(
      readFileSync(join(root, '.serverless/cloudformation-template-update-stack.json'), 'utf8'),
    );
  }, 180_000);

  it('runs every function on nodejs22.x, arm64, from its own bundle', () => {
    const functions = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      const [file, exportName] = String(fn.Properties.Handler).split(/\.(?=[^.]+$)/);
      expect(existsSync(join(root, `${file}.js`))).toBe(true);
      expect(exportName).toBe('handler');
    }
  });

  it('grants every IAM action the collectors declare', () => {
    const granted = new Set(
      statements()
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => asList(s.Action)),
    );
    for (const action of [...S3_IAM_ACTIONS, ...KMS_IAM_ACTIONS]) expect(granted).toContain(action);
  });

  it('grants no write and no decrypt on scanned resources', () => {
    const risky =
      /^(s3:(Put|Delete|Create|Replicate|Restore|Abort|Bypass|Update)|kms:(Decrypt|Encrypt|ReEncrypt|GenerateDataKey|Create|Delete|Disable|Schedule|Put)|\*$|s3:\*|kms:\*)/;
    for (const statement of statements().filter((s) => s.Effect === 'Allow')) {
      const actions = asList(statement.Action).filter((a) => typeof a === 'string');
      expect({ actions: actions.filter((a) => risky.test(a)) }).toEqual({ actions: [] });
    }
  });

  it('ships a bundle under 1.5 MB that loads and rejects a bad payload by field name', async () => {
    // Prepare
    const bundle = join(root, 'dist/functions/scan/index.js');
    const { handler } = (await import(pathToFileURL(bundle).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };

    // Act & Assess
    expect(readFileSync(bundle).length).toBeLessThan(1.5 * 1024 * 1024);
    await expect(
      handler(
        { buckets: 'b1' },
        { getRemainingTimeInMillis: () => 60_000, functionName: 'scan', awsRequestId: 'r1' },
      ),
    ).rejects.toThrow(/buckets: must be array/);
  });
});
