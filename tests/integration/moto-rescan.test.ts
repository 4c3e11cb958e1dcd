import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedHome, startCli } from '../helpers/cli.js';
import { type MotoServer, motoAvailable, startMoto } from '../helpers/moto.js';

/**
 * Event-driven rescans end to end in moto: a full scan, then the bucket's policy and another
 * bucket's encryption changed with the AWS CLI, the matching CloudTrail events (EventBridge
 * envelopes in an SQS batch, as the queue would hand them over) fed to the real
 * `s3scan rescan --alert`, and the drift alert read back from moto's SNS through a subscribed
 * queue.
 */
const availability = motoAvailable();
if (!availability.ok && process.env.CI) {
  throw new Error(`moto is required for the integration tests: ${availability.reason}`);
}
const SINKS = fileURLToPath(new URL('./moto/alert-sinks.py', import.meta.url));
const ACCOUNT = '123456789012';

const tlsPolicy = (bucket: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });

/** An EventBridge envelope of a CloudTrail record, as the rule delivers it to the queue. */
const envelope = (eventName: string, bucket: string, id: string) => ({
  version: '0',
  id,
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.s3',
  account: ACCOUNT,
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice` },
    eventTime: new Date().toISOString(),
    eventSource: 's3.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    requestParameters: { bucketName: bucket, Host: `${bucket}.s3.amazonaws.com` },
    responseElements: null,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
  },
});
const sqsBatch = (bodies: string[]) => ({
  Records: bodies.map((body, i) => ({
    messageId: `m-${i}`,
    receiptHandle: `r-${i}`,
    body,
    attributes: { ApproximateReceiveCount: '1' },
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:s3scan-rescan`,
    awsRegion: 'us-east-1',
  })),
});

describe.skipIf(!availability.ok)('s3scan rescan against moto: events in, drift alert out', () => {
  let moto: MotoServer;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let setup: { topicArn: string; snsQueue: string; eventsQueue: string };
  const cli = async (args: string[]) => {
    const run = startCli(args, env, home);
    const done = await run.done;
    return { code: done.code, stdout: run.stdout(), stderr: run.stderr() };
  };
  const aws = (...args: string[]) =>
    execFileSync('aws', ['--endpoint-url', moto.endpoint, ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });

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
    setup = JSON.parse(
      execFileSync('python3', [SINKS, moto.endpoint, 'setup'], { encoding: 'utf8' }),
    );
    aws('s3api', 'create-bucket', '--bucket', 'guarded');
    aws('s3api', 'put-bucket-policy', '--bucket', 'guarded', '--policy', tlsPolicy('guarded'));
    aws('s3api', 'create-bucket', '--bucket', 'quiet');
    aws('s3api', 'create-bucket', '--bucket', 'untouched');
    writeFileSync(
      join(home, 'alerts.yml'),
      [
        'alerts:',
        '  minSeverity: informational',
        `  sns: { topicArn: "${setup.topicArn}", perFinding: true }`,
      ].join('\n'),
    );
    const full = await cli(['scan', '--store', join(home, 'reports'), '--format', 'summary']);
    expect(full.code, full.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('rescans exactly the buckets the events name and alerts the regression through SNS', async () => {
    // Prepare: the changes, made with the AWS CLI, and their events (one twice, one unknown).
    const key = JSON.parse(aws('kms', 'create-key')).KeyMetadata.Arn as string;
    aws('s3api', 'delete-bucket-policy', '--bucket', 'guarded');
    aws(
      's3api',
      'put-bucket-encryption',
      '--bucket',
      'quiet',
      '--server-side-encryption-configuration',
      JSON.stringify({
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key },
            BucketKeyEnabled: true,
          },
        ],
      }),
    );
    const events = join(home, 'events.json');
    writeFileSync(
      events,
      JSON.stringify(
        sqsBatch([
          JSON.stringify(envelope('DeleteBucketPolicy', 'guarded', 'e-1')),
          JSON.stringify(envelope('PutBucketEncryption', 'quiet', 'e-2')),
          JSON.stringify(envelope('DeleteBucketPolicy', 'guarded', 'e-3')),
          JSON.stringify(envelope('PutBucketTagging', 'untouched', 'e-4')),
        ]),
      ),
    );
    const indexBefore = JSON.parse(readFileSync(join(home, 'reports', 'index.json'), 'utf8'));

    // Act
    const rescan = await cli([
      'rescan',
      '--event',
      events,
      '--store',
      join(home, 'reports'),
      '--config',
      join(home, 'alerts.yml'),
      '--alert',
      '--format',
      'json',
    ]);
    const arrived = JSON.parse(
      execFileSync('python3', [SINKS, moto.endpoint, 'read', setup.snsQueue, setup.eventsQueue], {
        encoding: 'utf8',
      }),
    ) as { sns: { Subject: string; Message: string }[] };
    const index = JSON.parse(readFileSync(join(home, 'reports', 'index.json'), 'utf8'));

    // Assess: three posture changes, one dropped; two buckets re-read, the third untouched.
    expect(rescan.code, rescan.stderr).toBe(0);
    expect(rescan.stderr).toContain('Events: 3 posture changes, 1 dropped (1 unknown-operation)');
    expect(rescan.stderr).toMatch(/Rescanned 2 buckets \(guarded, quiet\), updating full scan/);
    const { findings, summary } = JSON.parse(rescan.stdout) as {
      findings: { ruleId: string; status: string; resource: { name: string; type: string } }[];
      summary: { source: string; rescanOf: { scanId: string; events: string[] } };
    };
    const buckets = findings.filter((f) => f.resource.type === 'AWS::S3::Bucket');
    expect([...new Set(buckets.map((f) => f.resource.name))].sort()).toEqual(['guarded', 'quiet']);
    expect(
      findings.find((f) => f.resource.name === 'guarded' && f.ruleId === 's3-bucket-tls-enforced')
        ?.status,
    ).toBe('FAIL');
    expect(summary).toMatchObject({
      source: 'rescan',
      rescanOf: {
        scanId: indexBefore.latest,
        events: ['DeleteBucketPolicy', 'PutBucketEncryption'],
      },
    });
    // The rescan is in the history, but the account's latest is still the full scan.
    expect(index.latest).toBe(indexBefore.latest);
    expect(index.scans[0]).toMatchObject({ rescanOf: indexBefore.latest });
    // SNS got the regression of the guarded bucket, and nothing about the untouched one.
    const messages = arrived.sns.map((m) => `${m.Subject}\n${m.Message}`).join('\n---\n');
    expect(messages).toMatch(/regressed/);
    expect(messages).toMatch(/guarded/);
    expect(messages).toMatch(/s3-bucket-tls-enforced/);
    expect(messages).not.toMatch(/untouched/);
    // The latest full scan as stored still says guarded enforces TLS; the posture now does not.
    const tlsOf = (out: string) =>
      (JSON.parse(out) as { findings: typeof findings }).findings.find(
        (f) => f.resource.name === 'guarded' && f.ruleId === 's3-bucket-tls-enforced',
      )?.status;
    const stored = await cli(['report', '--store', join(home, 'reports'), '--format', 'json']);
    const now = await cli([
      'report',
      '--store',
      join(home, 'reports'),
      '--posture',
      'now',
      '--format',
      'json',
      '--fail-on',
      'high',
    ]);
    expect(tlsOf(stored.stdout)).toBe('PASS');
    expect(tlsOf(now.stdout)).toBe('FAIL');
    expect(now.stderr).toMatch(/Posture now: scan \S+ with 1 rescan\(s\) since/);
    expect(now.code).toBe(1);
  }, 120_000);

  it('names a malformed message, exits 2, and still rescans the good ones', async () => {
    // Prepare
    const events = join(home, 'poison.json');
    writeFileSync(
      events,
      JSON.stringify(
        sqsBatch([
          '{"cut short',
          JSON.stringify(envelope('PutBucketVersioning', 'untouched', 'e-5')),
        ]),
      ),
    );

    // Act
    const rescan = await cli(['rescan', '--event', events, '--store', join(home, 'reports')]);

    // Assess
    expect(rescan.code).toBe(2);
    expect(rescan.stderr).toMatch(/1 malformed/);
    expect(rescan.stderr).toMatch(/malformed message m-0: the body is not JSON/);
    expect(rescan.stderr).toMatch(/Rescanned 1 bucket \(untouched\)/);
  }, 60_000);
});
