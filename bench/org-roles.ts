import type { STSClient } from '@aws-sdk/client-sts';
import { MemberRoles } from '../lib/collect/assume-role.js';
import { report, timeIt } from './common.js';

/**
 * AssumeRole calls of an organisation scan: 200 accounts × 50 buckets, each bucket's clients
 * asking for credentials every simulated minute of a 3-hour scan, against an STS answering
 * after 20 ms with one-hour credentials. Target: 1 call per account plus one per hour of scan;
 * the naive way (a fresh AssumeRole for each bucket's clients, again when they expire) is
 * counted beside it.
 */
export async function benchOrgRoles(quick: boolean): Promise<void> {
  const accounts = quick ? 40 : 200;
  const bucketsPerAccount = 50;
  const minutes = 180;
  const latencyMs = 20;
  let now = Date.parse('2026-12-01T00:00:00Z');
  let calls = 0;
  const sts = {
    send: async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      return {
        Credentials: {
          AccessKeyId: 'ASIAEXAMPLE',
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(now + 3_600_000),
        },
      };
    },
  } as unknown as STSClient;
  const roles = new MemberRoles(sts, {
    partition: 'aws',
    roleName: 's3scan-read',
    scanId: 'bench',
    now: () => now,
  });
  const ids = Array.from({ length: accounts }, (_, i) => String(100000000000 + i));
  const { ms } = await timeIt(async () => {
    for (let minute = 0; minute < minutes; minute++) {
      await Promise.all(
        ids.flatMap((id) => Array.from({ length: bucketsPerAccount }, () => roles.credentials(id))),
      );
      now += 60_000;
    }
  });
  const perAccount = calls / accounts;
  const target = 1 + Math.floor(minutes / 60);
  // Naive: each bucket's clients assume the role for themselves, and again every hour.
  const naive = accounts * bucketsPerAccount * Math.ceil(minutes / 60);
  report({
    bench: 'org-roles',
    metric: 'assume-role-calls-per-account',
    value: perAccount,
    unit: 'calls',
    note: `${accounts} accounts x ${bucketsPerAccount} buckets asking every minute of a ${minutes}-minute scan (STS latency ${latencyMs} ms): ${perAccount.toFixed(2)} AssumeRole calls per account (target ${target}: one, plus one per hour; refreshed 5 minutes before expiry), ${calls} in all against ${naive} the naive way (${(naive / calls).toFixed(0)}x fewer); ${(ms / 1000).toFixed(1)} s of real time for ${accounts * bucketsPerAccount * minutes} credential requests`,
  });
}
