import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isolatedHome, startCli, waitFor } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 's3scan-cli-'));

/** Runs the built CLI the way a user does, with no AWS credentials in reach. */
function s3scan(args: string[], input?: string) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_CONFIG_FILE: join(work, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
  };
  const result = spawnSync(process.execPath, [join(root, 'bin/s3scan.js'), ...args], {
    cwd: work,
    env,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const policyFile = (name: string, text: string) => {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
};

describe('s3scan CLI', () => {
  it.each(['scan', 'evaluate', 'report', 'policy', 'diff', 'alert', 'dashboard', 'demo'])(
    'has --help for %s',
    (command) => {
      // Act
      const { code, stdout } = s3scan([command, '--help']);

      // Assess
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`Usage: s3scan ${command}`));
    },
  );

  it('runs the demo into a store, and evaluate --evidence reproduces its findings byte for byte', () => {
    // Prepare
    const store = join(work, 'demo-store');

    // Act
    const demo = s3scan(['demo', '--no-serve', '--store', store]);

    // Assess: a scan of its own, saying which evidence it judged.
    expect(demo.code).toBe(0);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    const scanId: string = index.latest;
    expect(scanId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    expect(demo.stdout).toMatch(
      new RegExp(`Scan ${scanId} of account 111122223333 .*: 24 buckets`),
    );
    expect(demo.stderr).toMatch(new RegExp(`Report written to .*demo-store/scans/${scanId}`));
    // The bundled previous day went in first: the demo shows every change kind since.
    expect(demo.stdout).toMatch(
      /^Drift: 3 new, 2 regressed, 3 resolved, 1 unverifiable, 18 gone since 2026-10-31 \(61 still failing\); details: s3scan diff --store /m,
    );
    const diff = JSON.parse(s3scan(['diff', '--store', store, '--format', 'json']).stdout);
    for (const kind of ['new', 'regressed', 'resolved', 'unverifiable', 'gone', 'still-failing'])
      expect(diff[kind].length).toBeGreaterThan(0);
    expect(
      diff.gone.every(
        (f: { resource: { name: string } }) => f.resource.name === 'acme-retired-exports',
      ),
    ).toBe(true);
    const scanDir = join(store, 'scans', scanId);
    const summary = JSON.parse(readFileSync(join(scanDir, 'summary.json'), 'utf8'));
    expect(summary.evaluatedFrom).toMatchObject({
      scanId: 'demo-20261101T060000Z',
      scanTime: '2026-11-01T06:00:00.000Z',
    });
    const stored = gunzipSync(readFileSync(join(scanDir, 'findings.ndjson.gz'))).toString('utf8');

    const again = s3scan([
      'evaluate',
      '--evidence',
      join(scanDir, 'evidence'),
      '--config',
      join(root, 'demo/s3scan.config.yml'),
      '--format',
      'json',
    ]);
    expect(again.code).toBe(0);
    const reproduced = (JSON.parse(again.stdout) as { findings: unknown[] }).findings
      .map((f) => JSON.stringify(f))
      .join('\n');
    expect(`${reproduced}\n`).toBe(stored);
  });

  it('keeps one demo history: a second demo run stores nothing, an evaluate --store adds a scan of its own, and a demo after it stores the demo afresh', () => {
    // Prepare
    const store = join(work, 'immutable-store');
    const firstRun = s3scan(['demo', '--no-serve', '--store', store]);
    const first = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')).latest as string;
    const firstSummary = readFileSync(join(store, 'scans', first, 'summary.json'), 'utf8');

    // Act
    const second = s3scan(['demo', '--no-serve', '--store', store]);
    const afterSecond = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    const evaluated = s3scan([
      'evaluate',
      '--evidence',
      join(store, 'scans', first, 'evidence'),
      '--store',
      store,
    ]);
    const third = s3scan(['demo', '--no-serve', '--store', store]);

    // Assess: the second run printed what the first did, from the scans already stored.
    expect([second.code, evaluated.code, third.code]).toEqual([0, 0, 0]);
    expect(second.stdout).toBe(firstRun.stdout);
    expect(second.stderr).toMatch(
      new RegExp(
        `already in .*immutable-store with the same findings \\(scans \\S+ and ${first}\\); nothing new was stored`,
      ),
    );
    expect(afterSecond.scans.map((s: { scanId: string }) => s.scanId)).toHaveLength(2);
    expect(afterSecond.latest).toBe(first);
    // Once another scan is the newest, the demo stores its two days again.
    expect(third.stderr).toMatch(/Report written to/);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    expect(new Set(index.scans.map((s: { scanId: string }) => s.scanId)).size).toBe(5);
    for (const entry of index.scans)
      expect(existsSync(join(store, 'scans', entry.scanId, 'summary.json'))).toBe(true);
    expect(readFileSync(join(store, 'scans', first, 'summary.json'), 'utf8')).toBe(firstSummary);
    const summaries = index.scans.map((entry: { scanId: string }) =>
      JSON.parse(readFileSync(join(store, 'scans', entry.scanId, 'summary.json'), 'utf8')),
    );
    const evaluatedSummary = summaries.find((s: { source: string }) => s.source === 'evaluate');
    expect(evaluatedSummary).toMatchObject({
      source: 'evaluate',
      evaluatedFrom: { scanId: 'demo-20261101T060000Z' },
    });
    expect(evaluatedSummary.evaluatedFrom.evidence).toBe(join(store, 'scans', first, 'evidence'));
  });

  it('stores the demo afresh when its config changes the findings', () => {
    // Prepare
    const store = join(work, 'demo-config-store');
    s3scan(['demo', '--no-serve', '--store', store]);
    const config = policyFile(
      'demo-no-tls.yml',
      `${readFileSync(join(root, 'demo/s3scan.config.yml'), 'utf8')}\n# changed\n`,
    );

    // Act: the same findings under another config file are another judgement.
    const changed = s3scan(['demo', '--no-serve', '--store', store, '--config', config]);

    // Assess
    expect(changed.code).toBe(0);
    expect(changed.stderr).toMatch(/Report written to/);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    expect(index.scans).toHaveLength(4);
  });

  it('exits 1 with --fail-on when a FAIL is severe enough', () => {
    expect(
      s3scan(['demo', '--no-serve', '--store', join(work, 'fail-on'), '--fail-on', 'critical'])
        .code,
    ).toBe(1);
  });

  it('prints the latest stored report', () => {
    // Prepare
    const store = join(work, 'report-store');
    s3scan(['demo', '--no-serve', '--store', store]);

    // Act
    const { code, stdout } = s3scan(['report', '--store', store, '--format', 'csv']);

    // Assess
    expect(code).toBe(0);
    expect(stdout.split('\r\n')[0]).toMatch(/^ruleId,status,severity/);
  });

  it('says in one line that there are no credentials, exits 2 and points at npm start', () => {
    // Act
    const { code, stderr } = s3scan(['scan', '--no-progress', '--store', join(work, 'never')]);

    // Assess
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/no AWS credentials.*npm start/);
    expect(readdirSync(work)).not.toContain('never');
  });

  it('names the invalid field of a broken config file and exits 2', () => {
    // Prepare
    const config = policyFile(
      'bad.yml',
      'rules:\n  s3-bucket-key-enabled:\n    severity: urgent\n',
    );

    // Act
    const { code, stderr } = s3scan([
      'demo',
      '--config',
      config,
      '--store',
      join(work, 'bad-config'),
    ]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/rules\.s3-bucket-key-enabled\.severity: must be one of/);
  });

  it('refuses evidence with an unknown schemaVersion and publishes nothing', () => {
    // Prepare
    const demo = JSON.parse(readFileSync(join(root, 'demo/demo-account.json'), 'utf8'));
    const evidence = policyFile('v9.json', JSON.stringify({ ...demo, schemaVersion: '9.0' }));
    const store = join(work, 'v9-store');

    // Act
    const { code, stderr } = s3scan(['evaluate', '--evidence', evidence, '--store', store]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/unsupported evidence schemaVersion "9.0"/);
    expect(readdirSync(work)).not.toContain('v9-store');
  });

  describe('policy', () => {
    const canonical = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::b1', 'arn:aws:s3:::b1/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });

    it('prints exactly one JSON object with the five verdicts and gaps', () => {
      // Act
      const { code, stdout } = s3scan([
        'policy',
        '--bucket',
        'b1',
        policyFile('ok.json', canonical),
      ]);

      // Assess
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({
        tlsEnforced: true,
        tlsMinVersion: null,
        sseEnforced: null,
        kmsKeyEnforced: null,
        sseCBlocked: null,
        gaps: [],
      });
    });

    it('reads stdin and explains in text', () => {
      // Act
      const { code, stdout } = s3scan(
        ['policy', '--bucket', 'other', '--format', 'text', '-'],
        canonical,
      );

      // Assess
      expect(code).toBe(0);
      expect(stdout).toMatch(/TLS required for every request \(tlsEnforced\): +no/);
      expect(stdout).toMatch(/why: .*Resource does not cover arn:aws:s3:::other/);
    });

    it.each([
      ['invalid JSON', '{"Statement": [', /not valid JSON/],
      ['a document that is not a policy', '{"hello": "world"}', /no Statement/],
    ])('exits 2 with one line on stderr for %s', (_what, text, message) => {
      // Act
      const { code, stdout, stderr } = s3scan(['policy', '--bucket', 'b1', '-'], text);

      // Assess
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(message);
    });

    it('exits 2 without --bucket', () => {
      const { code, stderr } = s3scan(['policy', '-'], canonical);
      expect(code).toBe(2);
      expect(stderr).toMatch(/--bucket/);
    });

    it('--fix-tls adds one statement, keeps the others, and the result is enforced', () => {
      // Prepare
      const original = {
        Version: '2012-10-17',
        Statement: {
          Sid: 'Keep',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::b1/*',
        },
      };

      // Act
      const { code, stdout, stderr } = s3scan(
        ['policy', '--bucket', 'b1', '--fix-tls', '--fix-sse-c', '-'],
        JSON.stringify(original),
      );

      // Assess
      expect(code).toBe(0);
      const fixed = JSON.parse(stdout);
      expect(fixed.Statement[0]).toEqual(original.Statement);
      expect(fixed.Statement).toHaveLength(3);
      expect(stderr).toMatch(/tlsEnforced=true, sseCBlocked=true/);
      const check = s3scan(['policy', '--bucket', 'b1', '-'], stdout);
      expect(JSON.parse(check.stdout)).toMatchObject({ tlsEnforced: true, sseCBlocked: true });
    });
  });
});

describe('s3scan fix plans the fixes of a stored scan', () => {
  it('prints the plan, stores it as a record of its own, and changes nothing', () => {
    // Prepare
    const store = join(work, 'fix-store');
    s3scan(['demo', '--no-serve', '--store', store]);
    const index = readFileSync(join(store, 'index.json'), 'utf8');

    // Act
    const table = s3scan([
      'fix',
      '--store',
      store,
      '--bucket',
      'acme-legacy-no-default',
      '--rule',
      's3-bucket-tls-enforced',
    ]);
    const json = s3scan([
      'fix',
      '--store',
      store,
      '--rule',
      's3-bucket-tls-enforced',
      '--format',
      'json',
    ]);

    // Assess
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^Fix plan fix-\S+, from scan \S+: 1 fix\(es\), 0 not planned\. Nothing is applied\./,
    );
    expect(table.stdout).toMatch(/\+ \{"Sid":"DenyInsecureTransport","Effect":"Deny"/);
    expect(table.stdout).toMatch(/call: PutBucketPolicy \(needs s3:PutBucketPolicy\)/);
    expect(table.stderr).toMatch(
      /stored in .*fix-store\/fixes\/fix-\S+\/plan\.json; nothing was applied/,
    );
    const plan = JSON.parse(json.stdout) as {
      fixId: string;
      fixes: { bucket: string; rule: string }[];
    };
    expect(plan.fixes.length).toBeGreaterThan(1);
    expect(plan.fixes.every((f) => f.rule === 's3-bucket-tls-enforced')).toBe(true);
    expect(JSON.parse(readFileSync(join(store, 'fixes', plan.fixId, 'plan.json'), 'utf8'))).toEqual(
      plan,
    );
    // A plan is not a scan: the history is as it was.
    expect(readFileSync(join(store, 'index.json'), 'utf8')).toBe(index);
  });

  it('plans key rotation as a diff of the rotation status, and says why it leaves the others', () => {
    // Prepare
    const store = join(work, 'fix-rotation-store');
    s3scan(['demo', '--no-serve', '--store', store]);

    // Act
    const rotation = s3scan(['fix', '--store', store, '--rule', 's3-bucket-kms-key-rotation']);

    // Assess
    expect(rotation.code).toBe(0);
    expect(rotation.stdout).toContain(
      [
        '    - KeyRotationEnabled: false',
        '    + KeyRotationEnabled: true',
        '    + RotationPeriodInDays: 365',
        '    call: EnableKeyRotation (needs kms:EnableKeyRotation)',
      ].join('\n'),
    );
    expect(rotation.stdout).toMatch(
      /acme-key-pending-deletion s3-bucket-kms-key-rotation: the key \S+ is pending deletion: cancel the deletion first/,
    );
    expect(rotation.stdout).toMatch(/Applying it needs: kms:EnableKeyRotation\n$/);
  });

  it('refuses a store with no scans, naming what to run', () => {
    const empty = s3scan(['fix', '--store', join(work, 'no-scans-here')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no scans in .*no-scans-here/);
  });

  it('--status says a fix created no job, refuses an unknown fix, and goes with no planning option', () => {
    // Prepare: a plan of the store (no object job).
    const plan = s3scan(['fix', '--store', join(work, 'fix-store'), '--format', 'json']);
    const fixId = (JSON.parse(plan.stdout) as { fixId: string }).fixId;

    // Act
    const none = s3scan(['fix', '--store', join(work, 'fix-store'), '--status', fixId]);
    const unknown = s3scan(['fix', '--store', join(work, 'fix-store'), '--status', 'fix-x']);
    const mixed = s3scan(['fix', '--store', join(work, 'fix-store'), '--status', fixId, '--copy']);

    // Assess
    expect(none.code).toBe(0);
    expect(none.stderr).toContain(`Fix ${fixId} created no Batch Operations job.`);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no fix fix-x in .*fix-store/);
    expect(mixed.stderr).toContain("--status shows a fix's jobs and plans nothing: drop --copy");
  });

  it('refuses --undo with planning options, and an undo of a fix the store does not hold', () => {
    // Act
    const mixed = s3scan([
      'fix',
      '--store',
      join(work, 'fix-store'),
      '--undo',
      'fix-x',
      '--apply',
      '--bucket',
      'b',
    ]);
    const unknown = s3scan([
      'fix',
      '--store',
      join(work, 'fix-store'),
      '--undo',
      'fix-20261207T000000Z-000000000000',
    ]);

    // Assess
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain(
      's3scan: --undo restores a fix already applied and plans nothing: drop --apply, --bucket',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^s3scan: no fix fix-20261207T000000Z-000000000000 in .*fix-store: s3scan fix prints the fix id$/m,
    );
  });
});

describe('s3scan dashboard over a store with no scans', () => {
  it('warns before serving, naming the store and what to run', async () => {
    // Prepare
    const home = isolatedHome();
    const run = startCli(['dashboard', '--store', join(home, 'typo')], {}, home);
    await waitFor(() => /Dashboard: /.test(run.stdout()), 20_000, 'the dashboard line');

    // Act
    run.child.kill('SIGINT');
    await run.done;

    // Assess
    expect(run.stderr()).toMatch(
      /s3scan: warning: .*typo holds no scans yet \(no index\.json\); the dashboard will be empty\. Run s3scan scan --store .*typo, or npm start/,
    );
  }, 40_000);

  it.each([
    {
      what: 'a folder that is not a store',
      files: { 'thesis.pdf': '%PDF', 'draft.md': '# notes' },
      warning:
        /s3scan: warning: .*elsewhere is not an s3scan report store \(no index\.json; it holds draft\.md, thesis\.pdf\)\. Pass the folder s3scan scan wrote to/,
    },
    {
      what: 'a store whose index.json is not JSON',
      files: { 'index.json': '{"latest": "x", "scans": [' },
      warning:
        /s3scan: warning: .*elsewhere\/index\.json is corrupt: not valid JSON; the dashboard will say so\. s3scan verify --store .*elsewhere checks the store\./,
    },
  ])(
    'warns before serving $what, and still serves the page that says so',
    async (c) => {
      // Prepare
      const home = isolatedHome();
      const store = join(home, 'elsewhere');
      mkdirSync(store);
      for (const [name, text] of Object.entries(c.files)) writeFileSync(join(store, name), text);
      const run = startCli(['dashboard', '--store', store], {}, home);
      await waitFor(() => /Dashboard: /.test(run.stdout()), 20_000, 'the dashboard line');

      // Act
      run.child.kill('SIGINT');
      const { code } = await run.done;

      // Assess
      expect(run.stderr()).toMatch(c.warning);
      expect(code).toBe(0);
    },
    40_000,
  );
});

describe('s3scan demo serves the dashboard until Ctrl-C', () => {
  it('prints the summary, the drift and the Dashboard line, and stops cleanly on SIGINT', async () => {
    // Prepare
    const home = isolatedHome();
    const run = startCli(['demo', '--store', join(home, 'reports')], {}, home);
    await waitFor(
      () => /Dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.test(run.stdout()),
      20_000,
      'the dashboard line',
    );
    const url = /Dashboard: (\S+)/.exec(run.stdout())![1]!;

    // Act
    const token = new URL(url).searchParams.get('token');
    const page = await fetch(url, { redirect: 'manual' });
    const withToken = await fetch(url.replace(/\?token=.*/, 'api/scans'), {
      headers: { authorization: `Bearer ${token}` },
    });
    const without = await fetch(url.replace(/\?token=.*/, 'api/scans'));
    run.child.kill('SIGINT');
    const done = await run.done;

    // Assess
    expect(run.stdout()).toMatch(/^Drift: \d+ new/m);
    expect(page.status).toBe(200);
    expect(withToken.status).toBe(200);
    expect(without.status).toBe(401);
    expect(done.code).toBe(0);
  }, 40_000);
});
