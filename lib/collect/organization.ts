import {
  type Account,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { withDeadline } from '../aws/call-bounds.js';
import { errorCode } from '../aws/errors.js';
import { BOUNDED_REQUESTS } from '../aws/timeouts.js';
import { CollectError, ConfigError } from '../errors.js';
import { type TokenPage, tokenPages } from './pages.js';

/**
 * IAM actions the scanning account needs to list an organisation: from the management
 * account, or from a member the management account delegated them to (a delegation policy
 * set with organizations:PutResourcePolicy).
 */
export const ORGANIZATIONS_IAM_ACTIONS = [
  'organizations:ListAccounts',
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
] as const;

/** An account s3scan will scan. */
export interface MemberAccount {
  id: string;
  name?: string;
  email?: string;
}

/** An account of the organisation that is not scanned, and why. */
export interface SkippedAccount {
  id: string;
  name?: string;
  state: string;
  reason: string;
}

/** Which accounts a scan covers, and which it leaves out. */
export interface AccountList {
  accounts: MemberAccount[];
  skipped: SkippedAccount[];
}

/** Why a non-ACTIVE account is left out (Organizations' State values). */
const STATE_REASONS: Record<string, string> = {
  PENDING_ACTIVATION: 'its sign-up is not finished: the account cannot be used yet',
  SUSPENDED:
    'it is suspended (closed accounts stay suspended for about 90 days): roles in it cannot be assumed',
  PENDING_CLOSURE: 'it is being closed',
  CLOSED: 'it is closed',
};

/** Organizations is a global service, answered in us-east-1 (aws-cn, aws-us-gov: their own). */
export function organizationsClient(options: { maxAttempts: number; endpoint?: string }) {
  return withDeadline(
    new OrganizationsClient({
      region: 'us-east-1',
      maxAttempts: options.maxAttempts,
      requestHandler: BOUNDED_REQUESTS,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    }),
  );
}

function failure(call: string, error: unknown): CollectError {
  const code = errorCode(error);
  const hint =
    code === 'AWSOrganizationsNotInUseException'
      ? 'this account is not in an organisation; list the accounts with --accounts instead'
      : code === 'AccessDeniedException'
        ? 'run from the management account, or from a member the management account delegated organizations:ListAccounts (and, with --ou, ListAccountsForParent and ListOrganizationalUnitsForParent) to; or list the accounts with --accounts'
        : 'try again later, or list the accounts with --accounts';
  return new CollectError(`organizations:${call} failed (${code}): ${hint}`, { cause: error });
}

/**
 * Sorts accounts into scanned (State ACTIVE) and skipped (any other State, with the reason).
 * `Status` is retired (2026-09-09) and never read; an account without a State is skipped as
 * unknown rather than guessed active.
 */
function sortAccounts(all: Account[]): AccountList {
  const accounts: MemberAccount[] = [];
  const skipped: SkippedAccount[] = [];
  const seen = new Set<string>();
  for (const account of all) {
    if (!account.Id || seen.has(account.Id)) continue;
    seen.add(account.Id);
    const named = {
      ...(account.Name ? { name: account.Name } : {}),
    };
    if (account.State === 'ACTIVE')
      accounts.push({
        id: account.Id,
        ...named,
        ...(account.Email ? { email: account.Email } : {}),
      });
    else
      skipped.push({
        id: account.Id,
        ...named,
        state: account.State ?? 'unknown',
        reason:
          STATE_REASONS[account.State ?? ''] ??
          `Organizations gave it no State s3scan knows (${account.State ?? 'none'})`,
      });
  }
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { accounts: accounts.sort(byId), skipped: skipped.sort(byId) };
}

/**
 * Every page of a NextToken listing. Organizations "can occasionally return an empty set of
 * results even when more results are available": only a missing NextToken ends it. A failed
 * page is the call's error, with what to do about it.
 */
function allPages<T>(
  call: string,
  page: (token: string | undefined) => Promise<TokenPage<T>>,
): Promise<T[]> {
  return tokenPages(`organizations:${call}`, async (token) => {
    try {
      return await page(token);
    } catch (error) {
      throw failure(call, error);
    }
  });
}

/** Every account of the organisation (ListAccounts: pages of at most 20). */
export async function listOrganizationAccounts(client: OrganizationsClient): Promise<AccountList> {
  const all = await allPages('ListAccounts', async (NextToken) => {
    const out = await client.send(new ListAccountsCommand({ MaxResults: 20, NextToken }));
    return { items: out.Accounts ?? [], next: out.NextToken };
  });
  return sortAccounts(all);
}

/**
 * The accounts under the given OUs (or roots), at any depth: each OU's accounts, then its
 * child OUs, walked one call at a time (Organizations throttles parallel callers).
 */
export async function listAccountsUnder(
  client: OrganizationsClient,
  parents: readonly string[],
): Promise<AccountList> {
  for (const parent of parents)
    if (!/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(parent))
      throw new ConfigError(
        `${JSON.stringify(parent)} is not an OU id (ou-xxxx-yyyyyyyy) or a root id (r-xxxx)`,
      );
  const all: Account[] = [];
  const queue = [...parents];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const parent = queue.shift() as string;
    if (visited.has(parent)) continue;
    visited.add(parent);
    all.push(
      ...(await allPages('ListAccountsForParent', async (NextToken) => {
        const out = await client.send(
          new ListAccountsForParentCommand({ ParentId: parent, MaxResults: 20, NextToken }),
        );
        return { items: out.Accounts ?? [], next: out.NextToken };
      })),
    );
    const children = await allPages('ListOrganizationalUnitsForParent', async (NextToken) => {
      const out = await client.send(
        new ListOrganizationalUnitsForParentCommand({
          ParentId: parent,
          MaxResults: 20,
          NextToken,
        }),
      );
      return { items: out.OrganizationalUnits ?? [], next: out.NextToken };
    });
    for (const ou of children) if (ou.Id) queue.push(ou.Id);
  }
  return sortAccounts(all);
}

/**
 * An explicit account list (`--accounts 111…,222…`, or a file of one id per line, `#`
 * comments allowed): for people without Organizations access. Every id must be 12 digits.
 */
export function parseAccountList(text: string, source: string): MemberAccount[] {
  const ids = text
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(/[\s,]+/))
    .filter(Boolean);
  const wrong = ids.filter((id) => !/^\d{12}$/.test(id));
  if (wrong.length > 0)
    throw new ConfigError(
      `${source}: ${wrong
        .slice(0, 5)
        .map((w) => JSON.stringify(w))
        .join(
          ', ',
        )} ${wrong.length === 1 ? 'is not an account id' : 'are not account ids'} (12 digits)`,
    );
  if (ids.length === 0) throw new ConfigError(`${source}: no account id`);
  return [...new Set(ids)].sort().map((id) => ({ id }));
}
