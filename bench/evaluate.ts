// Paths are relative to the bundle in dist/bench/, where `npm run bench` runs it from.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EVALUATION_CONFIG } from '../lib/engine/evaluate.js';
import type { BucketEvidence, ScanEvidence } from '../lib/evidence/types.js';
import { analyzePolicySafely } from '../lib/policy/analyze.js';
import { evaluateScan } from '../lib/scan/evaluate-scan.js';
import { report, timeIt } from './common.js';

/** The demo account's 24 buckets, renamed and repeated up to `count` buckets. */
function account(count: number): ScanEvidence {
  const demo = JSON.parse(
    readFileSync(fileURLToPath(new URL('../../demo/demo-account.json', import.meta.url)), 'utf8'),
  ) as ScanEvidence;
  const buckets: BucketEvidence[] = [];
  for (let i = 0; i < count; i++) {
    const template = demo.buckets[i % demo.buckets.length]!;
    const name = `${template.name}-${i}`;
    const policy =
      'ok' in template.policy
        ? { ok: template.policy.ok.split(template.name).join(name) }
        : template.policy;
    buckets.push({ ...template, name, arn: `arn:aws:s3:::${name}`, policy });
  }
  return { ...demo, buckets };
}

/** Evaluate throughput on recorded evidence, against analysing every policy afresh. */
export async function benchEvaluate(quick: boolean): Promise<void> {
  const count = quick ? 20_000 : 100_000;
  const evidence = account(count);
  evaluateScan(account(200));
  const { result, ms } = await timeIt(() => evaluateScan(evidence, DEFAULT_EVALUATION_CONFIG));
  const rate = count / (ms / 1000);
  report({
    bench: 'evaluate',
    metric: 'buckets-per-second',
    value: rate,
    unit: 'buckets/s',
    note: `${count} buckets, ${result.findings.length} findings in ${ms.toFixed(0)}ms; target >= 20000`,
  });
  report({
    bench: 'evaluate',
    metric: 'vs-target',
    value: rate / 20_000,
    unit: 'ratio',
    note: 'buckets/s / 20,000',
  });

  // The naive way: analyse every bucket's policy from scratch, as if no two policies were alike.
  const naiveCount = quick ? 2_000 : 10_000;
  const naive = account(naiveCount);
  const { ms: naiveMs } = await timeIt(() => {
    for (const bucket of naive.buckets) {
      if ('ok' in bucket.policy)
        analyzePolicySafely(bucket.policy.ok, {
          bucket: bucket.name,
          partition: 'aws',
          accountId: bucket.accountId,
        });
    }
    return evaluateScan(
      {
        ...naive,
        buckets: naive.buckets.map((b) => ({ ...b, policy: { absent: 'NoSuchBucketPolicy' } })),
      },
      DEFAULT_EVALUATION_CONFIG,
    );
  });
  const naiveRate = naiveCount / (naiveMs / 1000);
  report({
    bench: 'evaluate',
    metric: 'speedup-vs-naive',
    value: rate / naiveRate,
    unit: 'ratio',
    note: `shared policy analyses ${rate.toFixed(0)} buckets/s vs one analysis per bucket ${naiveRate.toFixed(0)} buckets/s`,
  });
}
