// Loads one Lambda bundle in a fresh process, times the module load, and invokes its handler
// with a payload: `node smoke-bundle.mjs dist/functions/scan/index.js '{"buckets":"x"}'`.
// Prints one JSON line: { loadMs, error? | result? }.
import { pathToFileURL } from 'node:url';

const [bundle, payload = '{}'] = process.argv.slice(2);
process.env.AWS_REGION ??= 'us-east-1';
process.env.REPORT_BUCKET ??= 'smoke-test-bucket';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
const start = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const loadMs = performance.now() - start;
const context = {
  getRemainingTimeInMillis: () => 60_000,
  functionName: 'smoke',
  awsRequestId: 'smoke',
};
try {
  const result = await handler(JSON.parse(payload), context);
  console.log(JSON.stringify({ loadMs, result }));
} catch (error) {
  console.log(JSON.stringify({ loadMs, error: error.message }));
}
