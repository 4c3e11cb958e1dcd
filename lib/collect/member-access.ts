import type { STSClient } from '@aws-sdk/client-sts';
import { MemberRoles } from './assume-role.js';
import { AwsClients, type ClientOptions, type MemberCredentialsSource } from './clients.js';

/** A member role as the stack (MEMBER_ROLE_NAME) or the command line (--role-name) names it. */
export interface MemberRoleName {
  roleName: string;
  externalId?: string;
}

/** How a scan reaches member accounts: what runOrganizationScan and a rescan take. */
export interface MemberAccess {
  /** The scanner itself: its account, ARN and partition. */
  own: { accountId: string; arn: string; partition: string };
  roles: MemberRoles;
  region: string;
  clientsFor: (account: string, credentials?: MemberCredentialsSource) => AwsClients;
}

/**
 * Member access built once for every host (the CLI's scan and rescan, the enumerate and
 * rescan functions): one MemberRoles for the scan (one AssumeRole per account, refreshed
 * before expiry) and clients made with a member's credentials and the host's client options.
 */
export function memberAccess(options: {
  sts: STSClient;
  own: MemberAccess['own'];
  role: MemberRoleName;
  scanId: string;
  region: string;
  clients: Omit<ClientOptions, 'credentials'>;
}): MemberAccess {
  const { region } = options;
  return {
    own: options.own,
    roles: new MemberRoles(options.sts, {
      partition: options.own.partition,
      roleName: options.role.roleName,
      ...(options.role.externalId ? { externalId: options.role.externalId } : {}),
      scanId: options.scanId,
    }),
    region,
    clientsFor: (_account, credentials) =>
      new AwsClients({ ...options.clients, ...(credentials ? { credentials } : {}) }, region),
  };
}
