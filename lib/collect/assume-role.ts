import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { withDeadline } from '../aws/call-bounds.js';
import { errorCode, httpStatus } from '../aws/errors.js';
import { BOUNDED_REQUESTS } from '../aws/timeouts.js';
import { CredentialsError } from '../errors.js';

/** The STS action the scanner's own role needs on every member role. */
export const ASSUME_ROLE_IAM_ACTIONS = ['sts:AssumeRole'] as const;

/** Temporary credentials of one member account. */
export interface MemberCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** How s3scan assumes its read-only role in each member account. */
export interface AssumeRoleOptions {
  partition: string;
  /** The member role's name (the same in every account: the StackSet creates it). */
  roleName: string;
  externalId?: string;
  /** Names the session `s3scan-<scanId>`: visible in the member's CloudTrail. */
  scanId: string;
  /**
   * One hour: the most STS allows when the caller is itself an assumed role (role chaining,
   * as in Lambda); a longer scan refreshes before the credentials expire.
   */
  durationSeconds?: number;
  /** Refresh this long before expiry, so no call starts with credentials about to lapse. */
  refreshMarginMs?: number;
  now?: () => number;
}

/** A RoleSessionName: 2–64 characters of `[\w+=,.@-]`. */
export function sessionNameOf(scanId: string): string {
  return `s3scan-${scanId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/**
 * Credentials per member account, from sts:AssumeRole, cached for their lifetime and refreshed
 * before they expire; concurrent callers of one account share one AssumeRole call. STS answers
 * AccessDenied alike for a denied call and a missing role, so the error says both.
 */
export class MemberRoles {
  readonly #cache = new Map<string, Promise<MemberCredentials>>();
  /** AssumeRole calls made per account: one per scan, plus one per refresh. */
  public readonly calls = new Map<string, number>();

  public constructor(
    private readonly sts: STSClient,
    private readonly options: AssumeRoleOptions,
  ) {
    if (!/^[\w+=,.@-]{1,64}$/.test(options.roleName))
      throw new CredentialsError(
        `--role-name ${JSON.stringify(options.roleName)} is not an IAM role name (1–64 of letters, digits and +=,.@_-)`,
      );
    if (options.externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(options.externalId))
      throw new CredentialsError(
        '--external-id must be 2–1224 characters of letters, digits and +=,.@:/-',
      );
  }

  /** The member role of an account. */
  public roleArn(accountId: string): string {
    return `arn:${this.options.partition}:iam::${accountId}:role/${this.options.roleName}`;
  }

  #fresh(credentials: MemberCredentials): boolean {
    const now = this.options.now?.() ?? Date.now();
    return credentials.expiration.getTime() - (this.options.refreshMarginMs ?? 5 * 60_000) > now;
  }

  /** The account's credentials: cached while fresh, else assumed (again). */
  public async credentials(accountId: string): Promise<MemberCredentials> {
    const cached = this.#cache.get(accountId);
    if (cached) {
      const value = await cached.catch(() => undefined);
      if (value && this.#fresh(value)) return value;
      // A failed or stale entry is replaced; a concurrent caller may have done it already.
      if (this.#cache.get(accountId) !== cached) return this.credentials(accountId);
    }
    const assuming = this.#assume(accountId);
    this.#cache.set(accountId, assuming);
    return assuming;
  }

  /** An SDK credential provider for one account's clients (the SDK calls it as it needs). */
  public provider(accountId: string): () => Promise<MemberCredentials> {
    return () => this.credentials(accountId);
  }

  async #assume(accountId: string): Promise<MemberCredentials> {
    this.calls.set(accountId, (this.calls.get(accountId) ?? 0) + 1);
    const RoleArn = this.roleArn(accountId);
    try {
      const out = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn,
          RoleSessionName: sessionNameOf(this.options.scanId),
          DurationSeconds: this.options.durationSeconds ?? 3600,
          ...(this.options.externalId ? { ExternalId: this.options.externalId } : {}),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
        throw new CredentialsError(`sts:AssumeRole on ${RoleArn} answered no credentials`);
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: new Date(c.Expiration),
      };
    } catch (error) {
      if (error instanceof CredentialsError) throw error;
      const code = errorCode(error);
      const denied = code === 'AccessDenied' || httpStatus(error) === 403;
      throw new CredentialsError(
        denied
          ? `could not assume ${RoleArn} (AccessDenied): STS answers the same when the role does not exist and when its trust policy does not admit this scanner${this.options.externalId ? ' with this ExternalId' : ''}. Deploy the member role (deploy/member-role.yml, or the StackSet in deploy/member-role-stackset.yml for every member) trusting the scanner's role${this.options.externalId ? ' and this ExternalId' : ''}`
          : `could not assume ${RoleArn} (${code}): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/** An STS client in the scanner's region (regional endpoint), for hosts without the SDK. */
export function stsClient(region: string, maxAttempts = 5): STSClient {
  return withDeadline(new STSClient({ region, maxAttempts, requestHandler: BOUNDED_REQUESTS }));
}

/** The partition of a region (the member roles' ARNs live in the scanner's partition). */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** What a preflight found for one account. */
export type MemberAccess =
  | { accountId: string; ok: true; arn: string; via: 'own' | 'role' }
  | { accountId: string; ok: false; reason: string };

/**
 * Whether s3scan can act in an account: the caller's own account with its own credentials,
 * any other through its member role, then sts:GetCallerIdentity as that role, which must
 * answer the account it was asked for.
 */
export async function checkMemberAccess(
  roles: MemberRoles,
  accountId: string,
  own: { accountId: string; arn: string },
  region: string,
): Promise<MemberAccess> {
  if (accountId === own.accountId) return { accountId, ok: true, arn: own.arn, via: 'own' };
  try {
    const credentials = await roles.credentials(accountId);
    const sts = withDeadline(
      new STSClient({ region, maxAttempts: 3, credentials, requestHandler: BOUNDED_REQUESTS }),
    );
    try {
      const who = await sts.send(new GetCallerIdentityCommand({}));
      if (who.Account !== accountId)
        return {
          accountId,
          ok: false,
          reason: `the role answered as account ${who.Account ?? 'unknown'}, not ${accountId}`,
        };
      return { accountId, ok: true, arn: who.Arn ?? roles.roleArn(accountId), via: 'role' };
    } finally {
      sts.destroy();
    }
  } catch (error) {
    return { accountId, ok: false, reason: (error as Error).message };
  }
}

/** Who the scanner is: its account, ARN and partition (the member roles live in the same). */
export async function callerIdentity(
  sts: STSClient,
): Promise<{ accountId: string; arn: string; partition: string }> {
  try {
    const who = await sts.send(new GetCallerIdentityCommand({}));
    const arn = who.Arn ?? '';
    return { accountId: who.Account ?? '', arn, partition: arn.split(':')[1] || 'aws' };
  } catch (error) {
    throw new CredentialsError(
      `sts:GetCallerIdentity failed (${errorCode(error)}): s3scan needs credentials of the scanning account`,
      { cause: error },
    );
  }
}
