import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { dispatchAlerts } from '../lib/alerts/dispatch.js';
import { SecurityHubSink } from '../lib/alerts/security-hub.js';
import { fingerprint } from '../lib/engine/evaluate.js';
import type { Finding } from '../lib/engine/types.js';
import { diffScans } from '../lib/history/drift.js';
import { LocalAlertLedger } from '../lib/report-store/alert-ledger.js';
import { report, timeIt } from './common.js';

const ACCOUNT = '111122223333';

/**
 * A local Security Hub that holds BatchImportFindings to its documented limits: at most 100
 * findings a call (400 otherwise) and a token bucket of 10 calls a second with a burst of 10
 * (AWS documents a burst of 30: this is stricter), 429 TooManyRequestsException beyond; each
 * call is answered after `latencyMs`, as over a network.
 */
async function fakeSecurityHub(latencyMs: number): Promise<{
  endpoint: string;
  server: Server;
  stats: { calls: number; throttled: number; findings: number; tooLarge: number };
}> {
  const stats = { calls: 0, throttled: 0, findings: 0, tooLarge: 0 };
  let tokens = 10;
  let refilled = Date.now();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const now = Date.now();
      tokens = Math.min(10, tokens + ((now - refilled) / 1000) * 10);
      refilled = now;
      const answer = (status: number, payload: object, type?: string) =>
        setTimeout(() => {
          res.writeHead(status, {
            'content-type': 'application/json',
            ...(type ? { 'x-amzn-errortype': type } : {}),
          });
          res.end(JSON.stringify(payload));
        }, latencyMs);
      if (tokens < 1) {
        stats.throttled += 1;
        return answer(429, { message: 'Rate exceeded' }, 'TooManyRequestsException');
      }
      tokens -= 1;
      stats.calls += 1;
      const findings = (JSON.parse(body) as { Findings: unknown[] }).Findings;
      if (findings.length > 100) {
        stats.tooLarge += 1;
        return answer(400, { message: 'at most 100 findings' }, 'InvalidInputException');
      }
      stats.findings += findings.length;
      answer(200, { SuccessCount: findings.length, FailedCount: 0, FailedFindings: [] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, server, stats };
}

function failing(count: number): Finding[] {
  return Array.from({ length: count }, (_, i) => {
    const bucket = `bucket-${i}`;
    const arn = `arn:aws:s3:::${bucket}`;
    return {
      ruleId: 's3-bucket-tls-enforced',
      title: 'Bucket policy denies requests without TLS',
      status: 'FAIL',
      severity: 'high',
      resource: {
        arn,
        type: 'AWS::S3::Bucket',
        name: bucket,
        region: 'us-east-1',
        account: ACCOUNT,
      },
      message: `Bucket ${bucket} allows requests without TLS.`,
      details: {},
      evidenceRef: `evidence/${ACCOUNT}/us-east-1/${bucket}.json`,
      fingerprint: fingerprint('s3-bucket-tls-enforced', arn),
    };
  });
}

const client = (endpoint: string) =>
  new SecurityHubClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    maxAttempts: 10,
  });

/**
 * Security Hub import against a local fake that enforces 10 calls/s and 100 findings a call:
 * findings per second achieved ÷ the 1,000/s ceiling, through the real sink and ledger, and
 * the naive way (batches of 100 one after another, the SDK's retries absorbing the 429s).
 */
export async function benchSecurityHub(quick: boolean): Promise<void> {
  const count = quick ? 5_000 : 20_000;
  // A 100-finding import takes a few hundred milliseconds over the internet; 150 ms is kind.
  const latencyMs = 150;
  const findings = failing(count);
  const drift = diffScans(
    { scanId: 'none', scanTime: '2026-10-31T06:00:00.000Z', findings: [] },
    { scanId: 'scan-1', scanTime: '2026-11-01T06:00:00.000Z', findings },
    { accountId: ACCOUNT, buckets: [], regions: [] },
  );
  const paced = await fakeSecurityHub(latencyMs);
  const root = mkdtempSync(join(tmpdir(), 's3scan-sh-bench-'));
  try {
    const hub = client(paced.endpoint);
    const sink = new SecurityHubSink({ client: () => hub, callerAccount: ACCOUNT });
    const run = await timeIt(() =>
      dispatchAlerts('scan-1', { drift, account: ACCOUNT }, [sink], new LocalAlertLedger(root)),
    );
    const sent = run.result.sinks[0]?.sent ?? 0;
    const rate = sent / (run.ms / 1000);

    const naive = await fakeSecurityHub(latencyMs);
    const naiveHub = client(naive.endpoint);
    const asff = sink
      .plan({ drift, account: ACCOUNT })
      .map((b) => b.entries.map((e) => e.payload.asff));
    const sequential = await timeIt(async () => {
      for (const batch of asff)
        await naiveHub.send(
          new BatchImportFindingsCommand({ Findings: batch as AwsSecurityFinding[] }),
        );
    });
    const naiveRate = count / (sequential.ms / 1000);
    report({
      bench: 'security-hub',
      metric: 'findings-per-second-vs-1000',
      value: rate / 1000,
      unit: 'ratio',
      note: `${sent} of ${count} findings imported in ${run.ms.toFixed(0)} ms (${rate.toFixed(0)}/s; ${paced.stats.calls} calls, ${paced.stats.throttled} throttled, ${paced.stats.tooLarge} over 100) through the sink and the ledger, ${latencyMs} ms a call; naive sequential batches ${naiveRate.toFixed(0)}/s (${(naiveRate / 1000).toFixed(2)}, ${naive.stats.throttled} throttled); target >= 0.9`,
    });
    naive.server.close();
  } finally {
    paced.server.close();
    rmSync(root, { recursive: true, force: true });
  }
}
