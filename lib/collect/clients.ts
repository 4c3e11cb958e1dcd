import { isIP } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import { STSClient } from '@aws-sdk/client-sts';
import { loadSharedConfigFiles } from '@smithy/core/config';
import type { MiddlewareStack } from '@smithy/types';
import {
  addCallDeadline,
  boundedRetryStrategy,
  DEFAULT_CALL_DEADLINE_MS,
  DEFAULT_TIMEOUT_RETRIES,
} from '../aws/call-bounds.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../aws/timeouts.js';
import { ConfigError } from '../errors.js';
import { noteAttempt, onAttempt } from './attempts.js';

/** Credentials for every client of an account: fixed, or asked for as they expire. */
export type MemberCredentialsSource =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | (() => Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      expiration?: Date;
    }>);

/** How to build AWS clients: credentials profile, retries, and (for tests) an endpoint. */
export interface ClientOptions {
  profile?: string;
  /** Total attempts per call (SDK default 3 is too few for bulk reads). */
  maxAttempts: number;
  /** Points every client (S3, KMS, STS) at one endpoint: tests, single-endpoint emulators. */
  endpoint?: string;
  /**
   * The S3 endpoint alone (`--endpoint-url`): S3-compatible stores and VPC interface
   * endpoints. KMS and STS keep theirs (AWS_ENDPOINT_URL_KMS / _STS, profiles).
   */
  s3Endpoint?: string;
  forcePathStyle?: boolean;
  /** Abandon a connection attempt after this long (default 5 s). */
  connectTimeoutMs?: number;
  /** Abandon a call with no answer, or a stalled response, after this long (default 30 s). */
  requestTimeoutMs?: number;
  /** `standard` (default) backs off per call; `adaptive` also rate-limits the client on throttling. */
  retryMode?: 'standard' | 'adaptive';
  /** A call with no final answer after this long, over all attempts, fails (default 60 s). */
  callDeadlineMs?: number;
  /** Retries of timed-out attempts per call (default 2); throttling keeps `maxAttempts`. */
  timeoutRetries?: number;
  /**
   * Fixed credentials, or a provider the SDK asks again as they expire (a member account's
   * role: `MemberRoles.provider`).
   */
  credentials?: MemberCredentialsSource;
}

/** S3, KMS and STS clients, one per region, created on first use and reused. */
export class AwsClients {
  private readonly s3Clients = new Map<string, S3Client>();
  private readonly kmsClients = new Map<string, KMSClient>();
  private stsClient: STSClient | undefined;
  private organizationsClient: OrganizationsClient | undefined;
  private readonly s3ControlClients = new Map<string, S3ControlClient>();
  /** HTTP attempts made so far, retries included, by service. */
  public readonly attempts = { s3: 0, kms: 0, sts: 0, organizations: 0 };

  /** Every HTTP attempt made by any client, retries included. */
  public totalAttempts(): number {
    return this.attempts.s3 + this.attempts.kms + this.attempts.sts + this.attempts.organizations;
  }

  /**
   * Bounds each call (a deadline over all attempts) and counts each HTTP attempt: a
   * middleware in the deserialize step runs once per attempt, below the retry middleware of
   * the finalizeRequest step.
   */
  private counted<
    C extends S3Client | S3ControlClient | KMSClient | STSClient | OrganizationsClient,
  >(client: C, service: keyof AwsClients['attempts']): C {
    addCallDeadline(client, this.options.callDeadlineMs ?? DEFAULT_CALL_DEADLINE_MS);
    onAttempt(client, () => {
      this.attempts[service] += 1;
    });
    const stack = client.middlewareStack as unknown as MiddlewareStack<object, object>;
    stack.add(
      (next) => async (args) => {
        noteAttempt(client);
        return next(args);
      },
      { step: 'deserialize', name: 's3scanAttemptCounter', priority: 'high' },
    );
    return client;
  }

  public constructor(
    private readonly options: ClientOptions,
    /** The region for account-level calls (ListBuckets, STS). */
    public readonly homeRegion: string,
  ) {}

  private common(region: string) {
    const requestTimeout = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return {
      region,
      maxAttempts: this.options.maxAttempts,
      retryMode: this.options.retryMode ?? 'standard',
      retryStrategy: boundedRetryStrategy({
        mode: this.options.retryMode ?? 'standard',
        maxAttempts: this.options.maxAttempts,
        timeoutRetries: this.options.timeoutRetries ?? DEFAULT_TIMEOUT_RETRIES,
      }),
      // No call may hang a scan: a connection that does not open, an answer that does not
      // come and a response that stalls all fail (TimeoutError, which the SDK retries).
      requestHandler: {
        connectionTimeout: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        requestTimeout,
        socketTimeout: requestTimeout,
        throwOnRequestTimeout: true,
      },
      ...(this.options.profile ? { profile: this.options.profile } : {}),
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
    };
  }

  /** The S3 client for a region. */
  public s3(region: string): S3Client {
    let client = this.s3Clients.get(region);
    if (!client) {
      // No followRegionRedirects: the bucket collector retries in the region S3 names itself,
      // so the evidence records where the bucket really lives, and it covers the 400 answers too.
      client = this.counted(
        new S3Client({
          ...this.common(region),
          ...(this.options.s3Endpoint ? { endpoint: this.options.s3Endpoint } : {}),
          ...(this.options.forcePathStyle ? { forcePathStyle: true } : {}),
        }),
        's3',
      );
      this.s3Clients.set(region, client);
    }
    return client;
  }

  /** The KMS client for a region (KMS is regional: use the key ARN's region). */
  public kms(region: string): KMSClient {
    let client = this.kmsClients.get(region);
    if (!client) {
      client = this.counted(new KMSClient(this.common(region)), 'kms');
      this.kmsClients.set(region, client);
    }
    return client;
  }

  /** The STS client. */
  public sts(): STSClient {
    this.stsClient ??= this.counted(new STSClient(this.common(this.homeRegion)), 'sts');
    return this.stsClient;
  }

  /**
   * The AWS Organizations client: a global service, answered in us-east-1 for the aws
   * partition and in the home region elsewhere (aws-cn, aws-us-gov).
   */
  public async organizations(): Promise<OrganizationsClient> {
    if (!this.organizationsClient) {
      // Loaded when first used: most scans' bundles need not carry it at cold start.
      const { OrganizationsClient } = await import('@aws-sdk/client-organizations');
      const region = /^(cn|us-gov)-/.test(this.homeRegion) ? this.homeRegion : 'us-east-1';
      this.organizationsClient ??= this.counted(
        new OrganizationsClient(this.common(region)),
        'organizations',
      );
    }
    return this.organizationsClient;
  }

  /**
   * Whether S3 Control (access points) can be asked: not when only S3 is pointed elsewhere
   * (`--endpoint-url`, an S3-compatible store), whose S3 Control would be AWS's.
   */
  public s3ControlAvailable(): boolean {
    return !(this.options.s3Endpoint && !this.options.endpoint);
  }

  /**
   * The S3 Control client for a region (access points), loaded when first used. Its endpoint
   * rules put the account id in front of the host; in front of an IP address or `localhost`
   * (an emulator such as moto, given as `endpoint` or AWS_ENDPOINT_URL) that makes no valid
   * URL, so a local custom endpoint is taken as it is.
   */
  public async s3control(region: string): Promise<S3ControlClient> {
    let client = this.s3ControlClients.get(region);
    if (!client) {
      const { S3ControlClient } = await import('@aws-sdk/client-s3-control');
      client = this.counted(new S3ControlClient(this.common(region)), 's3');
      const config = client.config as unknown as {
        endpointProvider: (params: { Endpoint?: string }, context?: unknown) => { url: URL };
      };
      const rules = config.endpointProvider;
      config.endpointProvider = (params, context) => {
        const custom = params.Endpoint ? new URL(params.Endpoint) : undefined;
        const local =
          custom &&
          (isIP(custom.hostname.replace(/^\[|\]$/g, '')) !== 0 || custom.hostname === 'localhost');
        return local ? { url: custom } : rules(params, context);
      };
      this.s3ControlClients.set(region, client);
    }
    return client;
  }

  /** Releases sockets so the process can exit promptly. */
  public destroy(): void {
    for (const c of this.s3ControlClients.values()) c.destroy();
    for (const c of this.s3Clients.values()) c.destroy();
    for (const c of this.kmsClients.values()) c.destroy();
    this.stsClient?.destroy();
    this.organizationsClient?.destroy();
  }
}

/**
 * Refuses a profile that no shared config or credentials file defines, naming it and the
 * profiles that exist, instead of the SDK's later and vaguer credentials error.
 */
export async function assertProfileExists(profile: string): Promise<void> {
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
  const known = [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])]
    .filter((name) => !/^(sso-session|services)\./.test(name))
    .sort();
  if (known.includes(profile)) return;
  throw new ConfigError(
    `profile ${profile} is not defined in the shared config or credentials file (${process.env.AWS_CONFIG_FILE ?? '~/.aws/config'}, ${process.env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials'})${known.length ? `; the profiles there are ${known.join(', ')}` : '; no profile is defined there'}`,
  );
}
