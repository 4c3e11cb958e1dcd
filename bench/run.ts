// `npm run bench` (add `-- --quick` for a run under two minutes). Never part of `npm test`.
// Each benchmark runs in its own process, so memory figures are its own.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchBounds, measureBoundsSweep } from './bounds.js';
import { benchBucketScan, benchSdkCallCost } from './bucket-scan.js';
import { benchBundles } from './bundles.js';
import { benchDashboardApi, measureDashboardApi, writeNextRescan } from './dashboard-api.js';
import { benchDashboardPage } from './dashboard-page.js';
import { benchDrift, measureDrift } from './drift.js';
import { benchEffectivePolicies } from './effective-policies.js';
import { benchEvaluate } from './evaluate.js';
import { benchFirstRun } from './first-run.js';
import { benchInventoryFanout } from './inventory-fanout.js';
import { benchHeadSweep, benchInventory, benchSweepMemory, costModel } from './objects.js';
import { benchOrgRoles } from './org-roles.js';
import { benchOrgSweep } from './org-sweep.js';
import { benchPolicy } from './policy.js';
import { benchRemediation } from './remediation.js';
import { benchRescan } from './rescan.js';
import { benchRetries } from './retries.js';
import { benchSecurityHub } from './security-hub.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
const quick = process.argv.includes('--quick');

const BENCHES: Record<string, (quick: boolean) => Promise<void> | void> = {
  policy: benchPolicy,
  evaluate: benchEvaluate,
  'bucket-scan': benchBucketScan,
  'sdk-call': benchSdkCallCost,
  retries: benchRetries,
  'head-sweep': benchHeadSweep,
  'sweep-memory': benchSweepMemory,
  inventory: benchInventory,
  'cost-model': costModel,
  drift: benchDrift,
  'security-hub': benchSecurityHub,
  'dashboard-api': benchDashboardApi,
  'dashboard-page': benchDashboardPage,
  bundles: benchBundles,
  'inventory-fanout': benchInventoryFanout,
  'org-roles': benchOrgRoles,
  rescan: benchRescan,
  'org-sweep': benchOrgSweep,
  'effective-policies': benchEffectivePolicies,
  bounds: benchBounds,
  'first-run': benchFirstRun,
  remediation: benchRemediation,
};

/** Halves of a benchmark that run in a child process of their own; not run on their own. */
const CHILDREN: Record<string, () => Promise<void>> = {
  'drift-measure': measureDrift,
  'dashboard-api-measure': measureDashboardApi,
  'dashboard-api-rescan': writeNextRescan,
  'bounds-sweep-measure': measureBoundsSweep,
};

const only = process.argv[process.argv.indexOf('--only') + 1];
if (process.argv.includes('--only') && only) {
  const bench = BENCHES[only] ?? CHILDREN[only];
  if (!bench)
    throw new Error(`unknown benchmark ${only}; one of ${Object.keys(BENCHES).join(', ')}`);
  await bench(quick);
} else {
  let failed = 0;
  for (const name of Object.keys(BENCHES)) {
    const args = [
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--only',
      name,
      ...(quick ? ['--quick'] : []),
    ];
    const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (result.status !== 0) {
      failed += 1;
      process.stderr.write(`benchmark ${name} failed (exit ${result.status})\n`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}
