// `npm run bench` (add `-- --quick` for a run under two minutes). Never part of `npm test`.
import { benchBucketScan, benchSdkCallCost } from './bucket-scan.js';
import { benchEvaluate } from './evaluate.js';
import { benchPolicy } from './policy.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
const quick = process.argv.includes('--quick');

await benchPolicy(quick);
await benchEvaluate(quick);
await benchBucketScan(quick);
await benchSdkCallCost(quick);
