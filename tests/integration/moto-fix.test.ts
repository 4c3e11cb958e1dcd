import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedHome, startCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-io.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';

/**
 * `s3scan fix --apply` and `--undo` end to end against moto, an AWS nobody here wrote: a scan
 * stored, the real CLI applying the plan with `--yes`, the rescan proving PASS, the settings
 * read back through boto3, `--undo` restoring them; a setting changed after the scan refused;
 * a run killed -9 mid-apply undone from its records. moto drops `BlockedEncryptionTypes` from
 * GetBucketEncryption (remediation.md §6): there the SSE-C fix must say it could not verify.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}

const SINKS = fileURLToPath(new URL('./moto/alert-sinks.py', import.meta.url));

const readOnly = (bucket: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadOnly',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:root' },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
    ],
  });

interface Outcome {
  fixId: string;
  results: {
    bucket: string;
    rule: string;
    status: string;
    reason?: string;
    verified?: boolean;
    verdict?: { status: string; message: string };
  }[];
}

describe.skipIf(!availability.ok)('s3scan fix against moto: apply, prove, undo', () => {
  let moto: MotoServer;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cli = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const run = startCli(args, { ...env, ...extra }, home);
    const done = await run.done;
    return { ...done, stdout: run.stdout(), stderr: run.stderr() };
  };
  /** boto3 against moto: the settings read back by a client s3scan did not write. */
  const boto3 = (code: string): unknown =>
    JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          `import boto3, json, sys\ns3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")\nkms = boto3.client("kms", endpoint_url=sys.argv[1], region_name="us-east-1")\n${code}`,
          moto.endpoint,
        ],
        { env: { ...process.env, ...env }, encoding: 'utf8' },
      ),
    );
  const policyOf = (bucket: string) =>
    boto3(
      `try:\n  print(s3.get_bucket_policy(Bucket="${bucket}")["Policy"])\nexcept s3.exceptions.ClientError as e:\n  print(json.dumps(e.response["Error"]["Code"]))`,
    );
  const rotationOf = (key: string) =>
    boto3(`print(json.dumps(kms.get_key_rotation_status(KeyId="${key}")["KeyRotationEnabled"]))`);
  const store = (name: string) => join(home, name);
  const scan = async (name: string) => {
    const done = await cli(['scan', '--store', store(name), '--format', 'summary']);
    expect(done.code, done.stderr).toBe(0);
  };

  beforeAll(async () => {
    moto = await startMoto();
    home = isolatedHome();
    env = {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    };
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('fixes TLS and key rotation, proves PASS by the rescan, and undoes both, read back through boto3', async () => {
    // Prepare: a bucket with no policy, one with a statement to keep, one on a key that does not rotate.
    const key = boto3(
      'k = kms.create_key()["KeyMetadata"]["Arn"]\ns3.create_bucket(Bucket="open-door")\ns3.create_bucket(Bucket="kept")\ns3.create_bucket(Bucket="keyed")\n' +
        `s3.put_bucket_policy(Bucket="kept", Policy=${JSON.stringify(readOnly('kept'))})\n` +
        's3.put_bucket_encryption(Bucket="keyed", ServerSideEncryptionConfiguration={"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":k},"BucketKeyEnabled":True}]})\n' +
        'print(json.dumps(k))',
    ) as string;
    await scan('apply');
    const filters = ['--bucket', 'open-door,kept,keyed'];
    const rules = ['--rule', 's3-bucket-tls-enforced,s3-bucket-kms-key-rotation'];
    const sinks = JSON.parse(
      execFileSync('python3', [SINKS, moto.endpoint, 'setup'], { encoding: 'utf8' }),
    ) as { topicArn: string; snsQueue: string; eventsQueue: string };
    const config = join(home, 'alerts.yml');
    writeFileSync(
      config,
      `alerts:\n  minSeverity: informational\n  sns: { topicArn: "${sinks.topicArn}" }\n`,
    );

    // Act
    const applied = await cli([
      'fix',
      '--store',
      store('apply'),
      ...filters,
      ...rules,
      '--apply',
      '--yes',
      '--config',
      config,
      '--alert',
      '--format',
      'json',
    ]);
    const arrived = JSON.parse(
      execFileSync('python3', [SINKS, moto.endpoint, 'read', sinks.snsQueue, sinks.eventsQueue], {
        encoding: 'utf8',
      }),
    ) as { sns: { Subject: string; Message: string }[] };

    // Assess: every fix applied, read back, and PASS in the rescan.
    expect(applied.code, applied.stderr).toBe(0);
    const outcome = JSON.parse(applied.stdout) as Outcome;
    expect(
      outcome.results.map((r) => [r.bucket, r.rule, r.status, r.verdict?.status]).sort(),
    ).toEqual([
      ['kept', 's3-bucket-tls-enforced', 'applied', 'PASS'],
      ['keyed', 's3-bucket-kms-key-rotation', 'applied', 'PASS'],
      ['keyed', 's3-bucket-tls-enforced', 'applied', 'PASS'],
      ['open-door', 's3-bucket-tls-enforced', 'applied', 'PASS'],
    ]);
    expect(applied.stderr).toMatch(
      /Applying needs kms:EnableKeyRotation, kms:GetKeyRotationStatus, s3:GetBucketPolicy, s3:PutBucketPolicy/,
    );
    expect(applied.stderr).toContain(`To undo: s3scan fix --undo ${outcome.fixId}`);
    // The rescan's drift went to SNS: the resolutions, and the fix that caused them.
    const digest = arrived.sns.map((m) => m.Message).join('\n---\n');
    expect(digest).toMatch(/resolved/);
    expect(digest).toContain(`Cause: rescan after s3scan fix --apply ${outcome.fixId}`);
    expect(digest).toMatch(/open-door s3-bucket-tls-enforced/);
    const kept = policyOf('kept') as { Statement: { Sid: string }[] };
    expect(kept.Statement.map((s) => s.Sid)).toEqual(['ReadOnly', 'DenyInsecureTransport']);
    expect(kept.Statement[0]).toEqual(JSON.parse(readOnly('kept')).Statement[0]);
    expect((policyOf('open-door') as { Statement: unknown[] }).Statement).toHaveLength(1);
    expect(rotationOf(key)).toBe(true);
    const runs = readdirSync(join(store('apply'), 'fixes', outcome.fixId, 'runs'));
    expect(runs).toEqual([expect.stringMatching(/^\d{8}T\d{9}Z-apply\.json$/)]);

    // Act: undo.
    const undone = await cli(['fix', '--store', store('apply'), '--undo', outcome.fixId, '--yes']);

    // Assess: AWS as before the fix, and the rescan says FAIL again.
    expect(undone.code, undone.stderr).toBe(0);
    expect(undone.stdout).toMatch(
      /^Undid fix \S+ as arn:aws:sts::123456789012:user\/moto: 4 restored; rescan \S+$/m,
    );
    expect(undone.stdout).toMatch(/open-door {2}s3-bucket-tls-enforced {2}restored → FAIL: /);
    expect(policyOf('open-door')).toBe('NoSuchBucketPolicy');
    expect(policyOf('kept')).toEqual(JSON.parse(readOnly('kept')));
    expect(rotationOf(key)).toBe(false);
  }, 120_000);

  it('refuses a bucket whose policy changed after the scan, and leaves it as it is', async () => {
    // Prepare
    boto3('s3.create_bucket(Bucket="drifted")\nprint(1)');
    await scan('drift');
    const changed = readOnly('drifted');
    boto3(`s3.put_bucket_policy(Bucket="drifted", Policy=${JSON.stringify(changed)})\nprint(1)`);

    // Act
    const run = await cli([
      'fix',
      '--store',
      store('drift'),
      '--bucket',
      'drifted',
      '--rule',
      's3-bucket-tls-enforced',
      '--apply',
      '--yes',
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(
      /drifted {2}s3-bucket-tls-enforced {2}refused \(changed since scan \S+: there was no bucket policy, and now there is one; nothing was written \(rescan, then plan again\)\)/,
    );
    expect(policyOf('drifted')).toEqual(JSON.parse(changed));
  }, 120_000);

  it('asks before writing: without a terminal and without --yes it writes nothing and stores no plan', async () => {
    // Prepare
    boto3('s3.create_bucket(Bucket="unasked")\nprint(1)');
    await scan('unasked');

    // Act
    const run = await cli(['fix', '--store', store('unasked'), '--bucket', 'unasked', '--apply']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      's3scan: --apply changes settings in AWS and asks first; there is no terminal to ask at: pass --yes to apply without asking',
    );
    expect(existsSync(join(store('unasked'), 'fixes'))).toBe(false);
    expect(policyOf('unasked')).toBe('NoSuchBucketPolicy');
  }, 120_000);

  it('leaves what --undo needs when killed -9 after a write, and --undo restores it', async () => {
    // Prepare
    boto3(
      `s3.create_bucket(Bucket="killed")\ns3.put_bucket_policy(Bucket="killed", Policy=${JSON.stringify(readOnly('killed'))})\nprint(1)`,
    );
    await scan('killed');
    const args = [
      'fix',
      '--store',
      store('killed'),
      '--bucket',
      'killed',
      '--rule',
      's3-bucket-tls-enforced',
    ];

    // Act: killed after the policy is written, before its result is recorded.
    const killed = await cli([...args, '--apply', '--yes'], {
      S3SCAN_TEST_CRASH_AT: 'fixes:written',
    });
    const fixId = readdirSync(join(store('killed'), 'fixes'))[0] ?? '';
    const written = policyOf('killed') as { Statement: unknown[] };
    const undone = await cli(['fix', '--store', store('killed'), '--undo', fixId, '--yes']);

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(written.Statement).toHaveLength(2);
    expect(undone.code, undone.stderr).toBe(0);
    expect(undone.stdout).toMatch(/killed {2}s3-bucket-tls-enforced {2}restored → FAIL/);
    expect(policyOf('killed')).toEqual(JSON.parse(readOnly('killed')));
  }, 120_000);

  it("says it could not verify the SSE-C block where moto's read-back drops it, and the rescan still fails it", async () => {
    // Prepare
    boto3(
      's3.create_bucket(Bucket="sse-c-open")\ns3.put_bucket_encryption(Bucket="sse-c-open", ServerSideEncryptionConfiguration={"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]})\nprint(1)',
    );
    await scan('sse-c');

    // Act
    const run = await cli([
      'fix',
      '--store',
      store('sse-c'),
      '--bucket',
      'sse-c-open',
      '--rule',
      's3-bucket-sse-c-blocked',
      '--apply',
      '--yes',
      '--format',
      'json',
    ]);

    // Assess: written, not verified, not proven; exit 1.
    expect(run.code, run.stderr).toBe(1);
    const [result] = (JSON.parse(run.stdout) as Outcome).results;
    expect(result).toMatchObject({ status: 'applied', verified: false });
    expect(result?.reason).toMatch(/^written, but the read-back is not what was written: /);
    expect(result?.verdict?.status).toBe('FAIL');
  }, 120_000);

  it('asks at a terminal, naming the account and the caller, and writes nothing on any answer but yes', async () => {
    // Prepare: the in-process CLI, with a terminal that answers "no", then "yes".
    boto3('s3.create_bucket(Bucket="asked")\nprint(1)');
    await scan('asked');
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const args = [
      'fix',
      '--store',
      store('asked'),
      '--bucket',
      'asked',
      '--rule',
      's3-bucket-tls-enforced',
      '--apply',
    ];

    // Act
    let declined: Awaited<ReturnType<typeof runCliInProcess>>;
    let accepted: Awaited<ReturnType<typeof runCliInProcess>>;
    try {
      declined = await runCliInProcess(args, { stdinIsTty: true, answers: ['no'] });
      const afterNo = policyOf('asked');
      expect(afterNo).toBe('NoSuchBucketPolicy');
      accepted = await runCliInProcess(args, { stdinIsTty: true, answers: ['yes'] });
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
      Object.assign(process.env, saved);
    }

    // Assess
    expect(declined.code).toBe(0);
    expect(declined.err).toContain(
      'Apply 1 fix to 1 bucket in account 123456789012 as arn:aws:sts::123456789012:user/moto? Type "yes" to go on: ',
    );
    expect(declined.err).toMatch(/Nothing was applied\. The plan stays in .*fixes\/fix-/);
    expect(accepted.code, accepted.err).toBe(0);
    expect(accepted.out).toMatch(
      /asked {2}s3-bucket-tls-enforced {2}applied → PASS, proven by the rescan/,
    );
    expect((policyOf('asked') as { Statement: unknown[] }).Statement).toHaveLength(1);
  }, 120_000);

  it('re-adds a TLS statement someone removed, by itself on the rescan path: a dry run first, then applied and proven', async () => {
    // Prepare: a guarded bucket scanned, then its policy deleted; the CloudTrail record of it.
    const tls = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::guarded-auto', 'arn:aws:s3:::guarded-auto/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
    boto3(
      `s3.create_bucket(Bucket="guarded-auto")\ns3.put_bucket_policy(Bucket="guarded-auto", Policy=${JSON.stringify(tls)})\nprint(1)`,
    );
    await scan('auto');
    boto3('s3.delete_bucket_policy(Bucket="guarded-auto")\nprint(1)');
    const event = join(home, 'deleted-policy.json');
    writeFileSync(
      event,
      JSON.stringify({
        eventVersion: '1.09',
        eventSource: 's3.amazonaws.com',
        eventName: 'DeleteBucketPolicy',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        recipientAccountId: '123456789012',
        userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/mallory' },
        requestParameters: { bucketName: 'guarded-auto' },
      }),
    );
    const configOf = (dryRun: boolean) => {
      const file = join(home, `auto-${dryRun}.yml`);
      writeFileSync(
        file,
        `remediation:\n  autoFix:\n    rules: [s3-bucket-tls-enforced]\n${dryRun ? '' : '    dryRun: false\n'}`,
      );
      return file;
    };
    const rescan = (dryRun: boolean) =>
      cli(['rescan', '--event', event, '--store', store('auto'), '--config', configOf(dryRun)]);

    // Act
    const dry = await rescan(true);
    const policyAfterDryRun = policyOf('guarded-auto');
    const applied = await rescan(false);

    // Assess: the dry run wrote nothing; the real one put the statement back and proved it.
    expect(dry.stderr).toMatch(
      /Automatic fix fix-\S+ \(dry run\): 1 fix\(es\) planned, nothing written/,
    );
    expect(policyAfterDryRun).toBe('NoSuchBucketPolicy');
    expect(applied.stderr).toMatch(/Automatic fix (fix-\S+): 1 applied, proven by rescan \S+/);
    expect(applied.stderr).toMatch(/guarded-auto s3-bucket-tls-enforced: applied → PASS/);
    const restored = policyOf('guarded-auto') as { Statement: { Sid: string }[] };
    expect(restored.Statement.map((st) => st.Sid)).toEqual(['DenyInsecureTransport']);
    const fixes = readdirSync(join(store('auto'), 'fixes'));
    expect(fixes).toHaveLength(2);
    for (const id of fixes) expect(id).toMatch(/^fix-\d{8}T\d{6}Z-[0-9a-f]{12}$/);
  }, 120_000);

  it('plans object jobs from a full object scan, puts the manifest, and reports a CreateJob moto does not implement per job', async () => {
    // Prepare: SSE-S3 and plaintext objects under a KMS default; a bucket for the jobs.
    boto3(
      [
        'k = kms.create_key()["KeyMetadata"]["Arn"]',
        's3.create_bucket(Bucket="objects-fix")',
        's3.put_object(Bucket="objects-fix", Key="plain one.txt", Body=b"x")',
        's3.put_object(Bucket="objects-fix", Key="old/ü s3.txt", Body=b"y", ServerSideEncryption="AES256")',
        's3.put_bucket_encryption(Bucket="objects-fix", ServerSideEncryptionConfiguration={"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":k},"BucketKeyEnabled":True}]})',
        's3.create_bucket(Bucket="fix-jobs")',
        'print(1)',
      ].join('\n'),
    );
    const scanned = await cli([
      'scan',
      '--store',
      store('objects'),
      '--bucket',
      'objects-fix',
      '--objects',
      'full',
      '--format',
      'summary',
    ]);
    expect(scanned.code, scanned.stderr).toBe(0);
    const objectRules = ['--rule', 's3-objects-weaker-than-default,s3-objects-unencrypted'];

    // Act
    const planned = await cli([
      'fix',
      '--store',
      store('objects'),
      ...objectRules,
      '--format',
      'json',
    ]);
    const applied = await cli([
      'fix',
      '--store',
      store('objects'),
      ...objectRules,
      '--apply',
      '--yes',
      '--job-bucket',
      'fix-jobs',
      '--batch-role',
      'arn:aws:iam::123456789012:role/s3scan-ci-remediation-batch',
    ]);
    const fixId = /Batch Operations jobs of fix (\S+):/.exec(applied.stdout)?.[1] ?? '';
    const manifest = boto3(
      `print(json.dumps(s3.get_object(Bucket="fix-jobs", Key="s3scan-fixes/${fixId}/manifests/123456789012.objects-fix.1.csv")["Body"].read().decode()))`,
    );

    // Assess: an update job for the SSE-S3 object, a copy job (only with --copy) for the plaintext one.
    const plan = JSON.parse(planned.stdout) as {
      objectJobs: { operation: string; objects: number; needsConsent: boolean }[];
    };
    expect(plan.objectJobs.map((j) => [j.operation, j.objects, j.needsConsent])).toEqual([
      ['S3UpdateObjectEncryption', 1, false],
      ['S3PutObjectCopy', 1, true],
    ]);
    expect(manifest).toBe('objects-fix,old%2F%C3%BC%20s3.txt\n');
    expect(applied.code).toBe(3);
    expect(applied.stdout).toMatch(
      /objects-fix {2}S3UpdateObjectEncryption of 1 object {2}failed \(HTTP404 \(HTTP 404\): the answer was not one AWS gives/,
    );
    expect(applied.stdout).toMatch(
      /S3PutObjectCopy of 1 object {2}refused \(a copy changes what an update keeps/,
    );
  }, 120_000);
});
