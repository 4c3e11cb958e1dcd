import { afterEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../lib/collect/clients.js';
import { type CollectResult, collectEvidence } from '../../lib/collect/scan.js';
import { DEFAULT_SCAN_SETTINGS } from '../../lib/config/config.js';
import type { Finding } from '../../lib/engine/types.js';
import { evaluateScan } from '../../lib/scan/evaluate-scan.js';
import { type FaultHook, startFakeAccount } from '../helpers/fake-account.js';
import type { FakeAws } from '../helpers/fake-aws-server.js';
import { faultAccount, transientFaults } from '../helpers/fault-account.js';

let server: FakeAws | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Scans the fault account with the given retry settings and evaluates it. */
async function scanAndEvaluate(
  fault: FaultHook | undefined,
  settings: { maxAttempts: number; retryMode: 'standard' | 'adaptive' },
): Promise<{ result: CollectResult; findings: Finding[] }> {
  server = await startFakeAccount(faultAccount(), fault ? { fault } : {});
  const clients = new AwsClients(
    {
      ...settings,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    },
    'us-east-1',
  );
  try {
    const result = await collectEvidence({
      clients,
      concurrency: 16,
      scanId: 'retries',
      scanTime: new Date('2026-11-01T06:00:00Z'),
      toolVersion: 'test',
      objects: { mode: 'full', versions: false, sampleSize: 10 },
    });
    return { result, findings: evaluateScan(result.evidence).findings };
  } finally {
    clients.destroy();
    await server.close();
    server = undefined;
  }
}

const verdicts = (findings: Finding[]) =>
  Object.fromEntries(findings.map((f) => [`${f.resource.arn} ${f.ruleId}`, f.status]));

describe('Honest retries under transient faults', () => {
  let baseline: Record<string, string>;

  it('the fault-free baseline has PASS and FAIL verdicts to lose', async () => {
    // Act
    const { findings } = await scanAndEvaluate(undefined, {
      maxAttempts: DEFAULT_SCAN_SETTINGS.maxAttempts,
      retryMode: DEFAULT_SCAN_SETTINGS.retryMode,
    });
    baseline = verdicts(findings);

    // Assess
    const statuses = Object.values(baseline);
    expect(statuses.filter((s) => s === 'FAIL').length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s === 'PASS').length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s === 'ERROR')).toEqual([]);
  }, 60_000);

  it.each([1, 2])(
    'with 20 percent faults and the default settings the findings equal the baseline (seed %i)',
    async (seed) => {
      // Prepare
      const { hook, counts } = transientFaults(0.2, seed);

      // Act
      const { findings, result } = await scanAndEvaluate(hook, {
        maxAttempts: DEFAULT_SCAN_SETTINGS.maxAttempts,
        retryMode: DEFAULT_SCAN_SETTINGS.retryMode,
      });

      // Assess: faults happened, every one was retried away, and the summary says so.
      expect(counts.faults).toBeGreaterThan(50);
      expect(verdicts(findings)).toEqual(baseline);
      expect(result.stats.retries).toBeGreaterThanOrEqual(counts.faults);
      expect(result.stats.httpAttempts).toBe(counts.requests);
    },
    90_000,
  );

  it.each([
    [1, 'standard'],
    [2, 'standard'],
    [3, 'standard'],
  ] as const)(
    'when retries run out (maxAttempts %i, %s) a verdict becomes ERROR, never PASS for FAIL or FAIL for PASS',
    async (maxAttempts, retryMode) => {
      // Prepare
      // STS and ListBuckets are spared: without them nothing is scanned at all (exit 3).
      const { hook } = transientFaults(0.2, 7, ['GetCallerIdentity', 'ListBuckets']);

      // Act
      const { findings } = await scanAndEvaluate(hook, { maxAttempts, retryMode });

      // Assess
      const faulty = verdicts(findings);
      const changed = Object.entries(faulty).filter(([id, status]) => baseline[id] !== status);
      expect(changed.length).toBeGreaterThan(0);
      for (const [id, status] of changed) expect({ id, status }).toEqual({ id, status: 'ERROR' });
      // No verdict is lost. A failed listing may add findings (the access points of a bucket
      // whose ListAccessPoints failed are one ERROR about it), never anything but ERROR.
      expect(Object.keys(faulty)).toEqual(expect.arrayContaining(Object.keys(baseline)));
    },
    90_000,
  );
});
