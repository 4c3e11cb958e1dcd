import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
let node22 = '';

const CASES: [string, unknown, RegExp][] = [
  ['scan', { buckets: 'b1' }, /buckets: must be array/],
  ['enumerate', { objects: 'all' }, /objects: must be one of/],
  ['scan-bucket', { scanId: 's' }, /bucket: is required/],
  ['finalize', {}, /scanId: is required/],
  ['plan-object-parts', {}, /scanId: is required/],
  ['object-parts', { scanId: 's', bucket: 'b', part: -1 }, /part: must be >= 0/],
  ['rescan', { hello: 1 }, /takes an SQS batch/],
];

/** Batches whose every message is poison: the handler answers the failures, never throws. */
const POISON = { Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', body: '{"cut' }] };

function smoke(
  nodeBinary: string,
  name: string,
  payload: unknown,
): { loadMs: number; error?: string } {
  const out = execFileSync(
    nodeBinary,
    [
      join(root, 'scripts/smoke-bundle.mjs'),
      join(root, `dist/functions/${name}/index.js`),
      JSON.stringify(payload),
    ],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
}

describe('Every Lambda bundle loads and answers on Node 22 (nodejs22.x) and Node 20', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root });
    node22 = execFileSync('bash', [join(root, 'scripts/node22.sh')], {
      encoding: 'utf8',
      timeout: 120_000,
    }).trim();
    expect(execFileSync(node22, ['--version'], { encoding: 'utf8' })).toMatch(/^v22\./);
  }, 180_000);

  it.each(CASES)('%s on Node 22', (name, payload, message) => {
    const answer = smoke(node22, name, payload);
    expect(answer.error).toMatch(message);
  });

  it.each(CASES)('%s on Node 20', (name, payload, message) => {
    const answer = smoke(process.execPath, name, payload);
    expect(answer.error).toMatch(message);
  });

  it('answers a batch of poison messages with their ids as item failures on Node 22', () => {
    const answer = smoke(node22, 'rescan', POISON) as { result?: unknown };
    expect(answer.result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });

  it('serves the dashboard API on Node 22: an unknown route is a 404, not a crash', () => {
    const answer = smoke(node22, 'dashboard-api', {
      version: '2.0',
      routeKey: 'GET /nope',
      rawPath: '/nope',
      headers: {},
      requestContext: { http: { method: 'GET', path: '/nope' } },
    }) as { result?: { statusCode: number } };
    expect(answer.result?.statusCode).toBe(404);
  });
});

describe('node build.mjs builds once and again only when an input changed', () => {
  it('leaves the bundles alone when nothing they are made of changed (npm start starts at once)', () => {
    // Prepare: npm test built them before the tests ran.
    const before = statSync(join(root, 'dist/cli/main.js')).mtimeMs;

    // Act
    execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root });

    // Assess
    expect(statSync(join(root, 'dist/cli/main.js')).mtimeMs).toBe(before);
    expect(statSync(join(root, 'dist/.build-digest')).isFile()).toBe(true);
  });
});
