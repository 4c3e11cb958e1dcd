// Paths are relative to the bundle in dist/bench/, where `npm run bench` runs it from.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzePolicy } from '../lib/policy/analyze.js';
import { largestPolicy } from '../tests/helpers/largest-policy.js';
import { report } from './common.js';

/** Policies analysed per second on one core, on the published corpus. */
export async function benchPolicy(quick: boolean): Promise<void> {
  const shared = fileURLToPath(
    new URL('../../../shared/corpus/aws-published-policies.jsonl', import.meta.url),
  );
  const path = existsSync(shared)
    ? shared
    : fileURLToPath(new URL('../../tests/fixtures/aws-published-policies.jsonl', import.meta.url));
  const cases = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const policy = (JSON.parse(l) as { bucketPolicy: unknown }).bucketPolicy;
      const text = JSON.stringify(policy);
      return { text, bucket: /arn:[^:]+:s3:::([^/"]+)/.exec(text)?.[1] ?? 'bucket' };
    });
  for (let i = 0; i < 100; i++) for (const c of cases) analyzePolicy(c.text, { bucket: c.bucket });
  const seconds = quick ? 1 : 3;
  let analysed = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (const c of cases) analyzePolicy(c.text, { bucket: c.bucket });
    analysed += cases.length;
  }
  const rate = analysed / ((performance.now() - start) / 1000);
  // The floor of any analyzer: reading the document at all.
  let parsed = 0;
  const parseStart = performance.now();
  while (performance.now() - parseStart < 500) {
    for (const c of cases) JSON.parse(c.text);
    parsed += cases.length;
  }
  const parseRate = parsed / ((performance.now() - parseStart) / 1000);
  report({
    bench: 'policy-analyze',
    metric: 'policies-per-second',
    value: rate,
    unit: 'policies/s',
    note: `${cases.length} corpus policies, one core; target >= 5000`,
  });
  report({
    bench: 'policy-analyze',
    metric: 'vs-target',
    value: rate / 5000,
    unit: 'ratio',
    note: 'policies/s / 5,000',
  });
  report({
    bench: 'policy-analyze',
    metric: 'vs-json-parse',
    value: rate / parseRate,
    unit: 'ratio',
    note: `full analysis ${rate.toFixed(0)}/s vs JSON.parse alone ${parseRate.toFixed(0)}/s`,
  });
  // The largest policy AWS accepts: 52 statements with four conditions each, 20 KB.
  const largest = largestPolicy();
  for (let i = 0; i < 5; i++) analyzePolicy(largest, { bucket: 'example-bucket' });
  const times = Array.from({ length: quick ? 11 : 31 }, () => {
    const t0 = performance.now();
    analyzePolicy(largest, { bucket: 'example-bucket' });
    return performance.now() - t0;
  }).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  report({
    bench: 'policy-analyze',
    metric: 'largest-policy-ms',
    value: Number(median.toFixed(2)),
    unit: 'ms',
    note: `a ${(largest.length / 1024).toFixed(1)} KB policy (AWS's 20 KB limit, 52 conditioned statements) analysed in ${median.toFixed(1)} ms (median of ${times.length}; target 50 ms, ${(50 / median).toFixed(1)}x under)`,
  });
}
