import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import {
  callerIdentity,
  checkMemberAccess,
  type MemberAccess,
  MemberRoles,
  stsClient,
} from '../../collect/assume-role.js';
import { assertProfileExists } from '../../collect/clients.js';
import {
  type AccountList,
  listAccountsUnder,
  listOrganizationAccounts,
  organizationsClient,
  parseAccountList,
} from '../../collect/organization.js';
import { collectPolicyLayers, POLICY_LAYER_IAM_ACTIONS } from '../../collect/policy-layers.js';
import { ConfigError } from '../../errors.js';
import type { AccountPolicyLayers } from '../../evidence/types.js';
import { sanitiseForTerminal, sanitiseLine } from '../../export/table.js';
import { newScanId } from '../../report-store/scan-id.js';
import { collect } from '../options.js';
import { type CommandContext, EXIT } from '../output.js';

/** `--accounts 111…,222…` or `--accounts @file` (one id a line, `#` comments). */
async function explicitAccounts(value: string): Promise<AccountList> {
  const source = value.startsWith('@') ? value.slice(1) : undefined;
  const text = source
    ? await readFile(source, 'utf8').catch((error: Error) => {
        throw new ConfigError(`--accounts @${source}: ${error.message}`);
      })
    : value;
  return { accounts: parseAccountList(text, source ?? '--accounts'), skipped: [] };
}

/** Where the accounts of a command come from: exactly one of `--org`, `--ou`, `--accounts`. */
export interface AccountSourceOptions {
  org?: boolean;
  ou?: string[];
  accounts?: string;
}

/** True when the options ask for more than the caller's own account. */
export function asksForAccounts(options: AccountSourceOptions): boolean {
  return Boolean(options.org || options.ou || options.accounts);
}

/**
 * The accounts `--org`, `--ou` or `--accounts` name: Organizations' list (ACTIVE ones to
 * scan, the others skipped with the reason), or the explicit list. Refuses none or several.
 */
export async function accountListOf(
  options: AccountSourceOptions,
  maxAttempts = 5,
): Promise<AccountList> {
  const sources = [options.org, options.ou, options.accounts].filter(Boolean).length;
  if (sources !== 1)
    throw new ConfigError('say which accounts with exactly one of --org, --ou or --accounts');
  if (options.accounts) return explicitAccounts(options.accounts);
  const org = organizationsClient({ maxAttempts });
  try {
    return options.ou
      ? await listAccountsUnder(org, options.ou)
      : await listOrganizationAccounts(org);
  } finally {
    org.destroy();
  }
}

/** The RCPs and SCPs of the listed accounts, read with the caller's own credentials. */
async function policyLayersOf(
  list: AccountList,
  maxAttempts: number,
): Promise<AccountPolicyLayers[]> {
  const org = organizationsClient({ maxAttempts });
  try {
    return (
      await collectPolicyLayers(
        org,
        list.accounts.map((a) => a.id),
      )
    ).layers;
  } finally {
    org.destroy();
  }
}

/**
 * Whether a scan will see the account's RCPs: read (how many), not applicable (why), or not
 * readable (why); the verdicts of an account whose RCPs are not readable rest on its bucket
 * policies alone and say so.
 */
export function layerReadability(layer: AccountPolicyLayers): { readable: boolean; rcps: string } {
  const probe = layer.rcps;
  if ('ok' in probe)
    return {
      readable: true,
      rcps: `readable (${probe.ok.length} attached on its path: ${probe.ok.map((p) => `${p.id} on ${p.target.id}`).join(', ') || 'none'})`,
    };
  if ('absent' in probe) {
    const why: Record<string, string> = {
      NotInOrganization: 'not in an organisation',
      ConsolidatedBillingOnly: 'the organisation has only consolidated billing',
      PolicyTypeNotEnabled: 'RCPs are not enabled on the root',
      ManagementAccount: 'the management account is never covered by RCPs',
    };
    return { readable: true, rcps: `none apply (${why[probe.absent] ?? probe.absent})` };
  }
  if ('denied' in probe)
    return {
      readable: false,
      rcps: `NOT READABLE (${probe.denied}): run from the management account or a delegated administrator allowed ${POLICY_LAYER_IAM_ACTIONS.join(', ')}`,
    };
  return { readable: false, rcps: `NOT READABLE (${probe.error}: ${probe.message})` };
}

/**
 * `s3scan accounts`: which accounts an organisation-wide scan covers, which it skips and why,
 * and with `--check` whether the member role can be assumed in each (the preflight to run
 * after deploying the StackSet). Exits 3 when an account cannot be reached.
 */
export function registerAccountsCommand(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('accounts')
    .description(
      'List the accounts a scan would cover (--org, --ou or --accounts) and, with --check, assume the member role in each.',
    )
    .option(
      '--org',
      'every account of the AWS Organization (management or delegated administrator)',
    )
    .option('--ou <id>', 'the accounts under this OU or root, recursively (repeatable)', collect)
    .option('--accounts <ids|@file>', 'these accounts: comma-separated, or @file with one a line')
    .option(
      '--profile <name>',
      'the AWS profile of the scanner (the management account or a delegated administrator)',
    )
    .option('--role-name <name>', 'the member role', 's3scan-read')
    .option('--external-id <id>', 'the ExternalId the member role requires')
    .option('--check', 'assume the role in every account and ask STS who it is')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (options) => {
      if (options.profile) {
        await assertProfileExists(options.profile);
        process.env.AWS_PROFILE = options.profile;
      }
      const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      const list = await accountListOf(options);
      const checks: MemberAccess[] = [];
      if (options.check) {
        const sts = stsClient(region);
        try {
          const own = await callerIdentity(sts);
          const roles = new MemberRoles(sts, {
            partition: own.partition,
            roleName: options.roleName,
            ...(options.externalId ? { externalId: options.externalId } : {}),
            scanId: newScanId(new Date()),
          });
          // One account at a time: a preflight is small, and STS throttles bursts.
          for (const account of list.accounts)
            checks.push(await checkMemberAccess(roles, account.id, own, region));
        } finally {
          sts.destroy();
        }
      }
      // Whether the scan will see the RCPs (and SCPs) of each account: read once, like a scan.
      const layers = options.check ? await policyLayersOf(list, 5) : [];
      const failed = checks.filter((c) => !c.ok);
      if (options.format === 'json')
        io.stdout(
          `${JSON.stringify(
            {
              ...list,
              ...(options.check
                ? { checks, policyLayers: layers.map((l) => ({ ...l, ...layerReadability(l) })) }
                : {}),
            },
            null,
            2,
          )}\n`,
        );
      else {
        const byId = new Map(checks.map((c) => [c.accountId, c]));
        const layerById = new Map(layers.map((l) => [l.accountId, l]));
        for (const a of list.accounts) {
          const check = byId.get(a.id);
          const state = !check
            ? 'to scan'
            : check.ok
              ? `reachable (${check.via === 'own' ? 'own credentials' : check.arn})`
              : `NOT REACHABLE: ${check.reason}`;
          const layer = layerById.get(a.id);
          const rcps = layer ? `; RCPs: ${layerReadability(layer).rcps}` : '';
          io.stdout(
            `${a.id}  ${sanitiseLine(a.name ?? '')}  ${state}${sanitiseForTerminal(rcps)}\n`,
          );
        }
        for (const s of list.skipped)
          io.stdout(`${s.id}  ${sanitiseLine(s.name ?? '')}  skipped (${s.state}): ${s.reason}\n`);
        io.stdout(
          `${list.accounts.length} to scan, ${list.skipped.length} skipped${options.check ? `, ${failed.length} not reachable, RCPs readable for ${layers.filter((l) => layerReadability(l).readable).length} of ${layers.length}` : ''}\n`,
        );
      }
      setExit(failed.length > 0 ? EXIT.runtime : EXIT.ok);
    });
}
