import { AwsClients } from '../lib/collect/clients.js';
import { collectEvidence } from '../lib/collect/scan.js';
import { evaluateScan } from '../lib/scan/evaluate-scan.js';
import { type FaultHook, startFakeAccount } from '../tests/helpers/fake-account.js';
import { faultAccount, transientFaults } from '../tests/helpers/fault-account.js';
import { report, timeIt } from './common.js';

/** One scan of the fault account over real HTTP on 127.0.0.1; wall time, requests, findings. */
async function scanOnce(
  retryMode: 'standard' | 'adaptive',
  fault: FaultHook | undefined,
  size: { buckets: number; objects: number },
) {
  const server = await startFakeAccount(faultAccount(size.buckets, size.objects), {
    ...(fault ? { fault } : {}),
    latencyMs: 5,
  });
  const clients = new AwsClients(
    {
      maxAttempts: 10,
      retryMode,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    },
    'us-east-1',
  );
  try {
    const { result, ms } = await timeIt(() =>
      collectEvidence({
        clients,
        concurrency: 16,
        scanId: 'bench-retries',
        scanTime: new Date('2026-11-01T06:00:00Z'),
        toolVersion: 'bench',
        objects: { mode: 'full', versions: false, sampleSize: 10 },
      }),
    );
    const verdicts = evaluateScan(result.evidence)
      .findings.map((f) => `${f.resource.arn} ${f.ruleId} ${f.status}`)
      .sort()
      .join('\n');
    return { ms, stats: result.stats, verdicts };
  } finally {
    clients.destroy();
    await server.close();
  }
}

/**
 * Retries under 20 % transient faults (500, 503 SlowDown, connection reset), standard vs
 * adaptive retry mode, each against a fault-free run of the same mode in the same process:
 * wall-time ratio, requests sent per logical call, and whether the findings stayed the same.
 */
export async function benchRetries(quick: boolean): Promise<void> {
  const size = quick ? { buckets: 8, objects: 30 } : { buckets: 16, objects: 60 };
  for (const mode of ['standard', 'adaptive'] as const) {
    const clean = await scanOnce(mode, undefined, size);
    const { hook, counts } = transientFaults(0.2, 42);
    const faulty = await scanOnce(mode, hook, size);
    const calls = faulty.stats.s3Calls + faulty.stats.kmsCalls + faulty.stats.stsCalls;
    report({
      bench: 'retries',
      metric: `${mode}-wall-ratio`,
      value: faulty.ms / clean.ms,
      unit: 'ratio',
      note: `wall time at 20 % faults / fault-free (${Math.round(faulty.ms)} ms / ${Math.round(clean.ms)} ms), ${mode} retry mode, maxAttempts 10, C=16, L=5ms`,
    });
    report({
      bench: 'retries',
      metric: `${mode}-requests-per-call`,
      value: faulty.stats.httpAttempts / calls,
      unit: 'ratio',
      note: `${faulty.stats.httpAttempts} HTTP requests for ${calls} calls (${counts.faults} faults injected; fault-free: ${clean.stats.httpAttempts} for ${clean.stats.s3Calls + clean.stats.kmsCalls + clean.stats.stsCalls})`,
    });
    report({
      bench: 'retries',
      metric: `${mode}-findings-equal`,
      value: faulty.verdicts === clean.verdicts ? 1 : 0,
      unit: 'boolean',
      note: '1 when every verdict at 20 % faults equals the fault-free run',
    });
  }
}
