import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import {
  callerIdentity,
  checkMemberAccess,
  type MemberAccess,
  MemberRoles,
  stsClient,
} from '../../collect/assume-role.js';
import {
  type AccountList,
  listAccountsUnder,
  listOrganizationAccounts,
  organizationsClient,
  parseAccountList,
} from '../../collect/organization.js';
import { ConfigError } from '../../errors.js';
import { sanitiseForTerminal } from '../../export/table.js';
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
    .option('--role-name <name>', 'the member role', 's3scan-read')
    .option('--external-id <id>', 'the ExternalId the member role requires')
    .option('--check', 'assume the role in every account and ask STS who it is')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (options) => {
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
      const failed = checks.filter((c) => !c.ok);
      if (options.format === 'json')
        io.stdout(
          `${JSON.stringify({ ...list, ...(options.check ? { checks } : {}) }, null, 2)}\n`,
        );
      else {
        const byId = new Map(checks.map((c) => [c.accountId, c]));
        for (const a of list.accounts) {
          const check = byId.get(a.id);
          const state = !check
            ? 'to scan'
            : check.ok
              ? `reachable (${check.via === 'own' ? 'own credentials' : check.arn})`
              : `NOT REACHABLE: ${check.reason}`;
          io.stdout(`${a.id}  ${sanitiseForTerminal(a.name ?? '')}  ${state}\n`);
        }
        for (const s of list.skipped)
          io.stdout(
            `${s.id}  ${sanitiseForTerminal(s.name ?? '')}  skipped (${s.state}): ${s.reason}\n`,
          );
        io.stdout(
          `${list.accounts.length} to scan, ${list.skipped.length} skipped${options.check ? `, ${failed.length} not reachable` : ''}\n`,
        );
      }
      setExit(failed.length > 0 ? EXIT.runtime : EXIT.ok);
    });
}
