import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';

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
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** S3, KMS and STS clients, one per region, created on first use and reused. */
export class AwsClients {
  private readonly s3Clients = new Map<string, S3Client>();
  private readonly kmsClients = new Map<string, KMSClient>();
  private stsClient: STSClient | undefined;

  public constructor(
    private readonly options: ClientOptions,
    /** The region for account-level calls (ListBuckets, STS). */
    public readonly homeRegion: string,
  ) {}

  private common(region: string) {
    return {
      region,
      maxAttempts: this.options.maxAttempts,
      // Adaptive mode adds client-side rate limiting on throttling (SlowDown, 503).
      retryMode: 'adaptive' as const,
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
      client = new S3Client({
        ...this.common(region),
        ...(this.options.s3Endpoint ? { endpoint: this.options.s3Endpoint } : {}),
        ...(this.options.forcePathStyle ? { forcePathStyle: true } : {}),
      });
      this.s3Clients.set(region, client);
    }
    return client;
  }

  /** The KMS client for a region (KMS is regional: use the key ARN's region). */
  public kms(region: string): KMSClient {
    let client = this.kmsClients.get(region);
    if (!client) {
      client = new KMSClient(this.common(region));
      this.kmsClients.set(region, client);
    }
    return client;
  }

  /** The STS client. */
  public sts(): STSClient {
    this.stsClient ??= new STSClient(this.common(this.homeRegion));
    return this.stsClient;
  }

  /** Releases sockets so the process can exit promptly. */
  public destroy(): void {
    for (const c of this.s3Clients.values()) c.destroy();
    for (const c of this.kmsClients.values()) c.destroy();
    this.stsClient?.destroy();
  }
}
