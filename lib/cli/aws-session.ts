import { callerIdentity, stsClient } from '../collect/assume-role.js';
import { AwsClients, assertProfileExists } from '../collect/clients.js';
import type { LoadedConfig } from '../config/config.js';
import { clientOptionsOf } from './options.js';

/** The AWS clients of a command that reads or writes the caller's own account. */
export interface AwsSession {
  clients: AwsClients;
  sts: ReturnType<typeof stsClient>;
  /** Who the credentials are: the account the command acts in, and the caller's ARN. */
  own: Awaited<ReturnType<typeof callerIdentity>>;
  /** The home region (AWS_REGION, AWS_DEFAULT_REGION, else us-east-1). */
  region: string;
}

/**
 * Runs `use` with clients for the caller's credentials (the `--profile` checked first, the
 * caller identified by STS) and destroys them after, whatever happens.
 */
export async function withAwsSession<T>(
  options: { profile?: string; endpointUrl?: string; pathStyle?: boolean },
  config: LoadedConfig,
  use: (session: AwsSession) => Promise<T>,
): Promise<T> {
  if (options.profile) {
    await assertProfileExists(options.profile);
    process.env.AWS_PROFILE = options.profile;
  }
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const clients = new AwsClients(clientOptionsOf(config, options), region);
  const sts = stsClient(region, config.scan.maxAttempts);
  try {
    const own = await callerIdentity(sts);
    return await use({ clients, sts, own, region });
  } finally {
    sts.destroy();
    clients.destroy();
  }
}
