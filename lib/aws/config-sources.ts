import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../errors.js';
import { bodyBytes } from './body.js';
import { withDeadline } from './call-bounds.js';
import { errorCode, httpStatus } from './errors.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './timeouts.js';

/** What a config source answers: the document and its version, unchanged, or nothing there. */
export type ConfigRead =
  | { kind: 'found'; text: string; version: string }
  | { kind: 'unchanged' }
  | { kind: 'missing' };

/**
 * Where the deployed scanner keeps its config: the report bucket's `config/s3scan.config.yml`
 * or an SSM parameter (the two adapters below; `DeployedConfig` in `lib/config` caches what they read).
 */
export interface ConfigSource {
  readonly origin: 's3' | 'ssm';
  /** `s3://bucket/key` or `ssm:<name>`, for messages and the summary. */
  readonly location: string;
  /** True when the document is JSON (a `.json` key); YAML otherwise. */
  readonly json: boolean;
  /**
   * Reads the config. With `knownVersion`, a source that can tell cheaply answers `unchanged`
   * when the document still has that version. A read that fails (denied, throttled after
   * retries) throws: a scan must never fall back to defaults because a read failed.
   */
  read(knownVersion?: string): Promise<ConfigRead>;
}

/** The key of the config in the report bucket (under the report prefix, when there is one). */
export const CONFIG_OBJECT_KEY = 'config/s3scan.config.yml';

/** A config is a few kilobytes; anything this large is not one, and is not read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The config object in the report bucket. Existence is asked with ListObjectsV2 on the exact
 * key (the roles hold `s3:ListBucket` only for that prefix): without `s3:ListBucket`, S3
 * answers a GetObject of a missing key with 403 AccessDenied, the same as a denied read, and
 * a missing config (defaults) must never be confused with one the scanner may not read.
 * The listing's ETag also says whether the cached document is still current, so an unchanged
 * config costs one LIST per scan and no GET.
 */
export class S3ConfigSource implements ConfigSource {
  public readonly origin = 's3' as const;
  public readonly location: string;
  public readonly json: boolean;

  public constructor(
    private readonly options: {
      s3: S3Client;
      bucket: string;
      key: string;
      expectedOwner?: string;
    },
  ) {
    this.location = `s3://${options.bucket}/${options.key}`;
    this.json = options.key.endsWith('.json');
  }

  private get owner() {
    return this.options.expectedOwner ? { ExpectedBucketOwner: this.options.expectedOwner } : {};
  }

  public async read(knownVersion?: string): Promise<ConfigRead> {
    const { s3, bucket, key } = this.options;
    const listed = await s3
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1, ...this.owner }))
      .catch((error: unknown) => {
        throw awsFailure('ListObjectsV2', error);
      });
    const entry = listed.Contents?.find((object) => object.Key === key);
    if (!entry) return { kind: 'missing' };
    if (knownVersion !== undefined && entry.ETag === knownVersion) return { kind: 'unchanged' };
    if ((entry.Size ?? 0) > MAX_CONFIG_BYTES)
      throw new ConfigError(
        `${this.location} is ${entry.Size} bytes; a config file is at most ${MAX_CONFIG_BYTES}`,
      );
    try {
      const object = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          IfNoneMatch: knownVersion,
          ...this.owner,
        }),
      );
      const text = object.Body ? (await bodyBytes(object.Body)).toString('utf8') : '';
      return { kind: 'found', text, version: object.ETag ?? entry.ETag ?? 'unknown' };
    } catch (error) {
      // The SDK names a 304 "NotModified", "304" or nothing at all: the status is what counts.
      if (httpStatus(error) === 304) return { kind: 'unchanged' };
      // Deleted between the listing and the read.
      if (errorCode(error) === 'NoSuchKey') return { kind: 'missing' };
      throw awsFailure('GetObject', error);
    }
  }
}

/**
 * The config in an SSM parameter (a `String` parameter: standard tier up to 4 KB, advanced up
 * to 8 KB). Every read is one GetParameter; the parameter's version decides whether the cached
 * document is still current. SecureString is refused: the config is not a secret, and reading
 * one would need `kms:Decrypt` the scanner is deliberately not given.
 */
export class SsmConfigSource implements ConfigSource {
  public readonly origin = 'ssm' as const;
  public readonly location: string;
  public readonly json: boolean;

  public constructor(private readonly options: { ssm: SSMClient; name: string }) {
    this.location = `ssm:${options.name}`;
    // YAML is a superset of JSON: a JSON document in a parameter parses either way.
    this.json = false;
  }

  public async read(knownVersion?: string): Promise<ConfigRead> {
    let parameter: { Value?: string; Version?: number; Type?: string } | undefined;
    try {
      ({ Parameter: parameter } = await this.options.ssm.send(
        new GetParameterCommand({ Name: this.options.name, WithDecryption: false }),
      ));
    } catch (error) {
      if (errorCode(error) === 'ParameterNotFound') return { kind: 'missing' };
      throw awsFailure('GetParameter', error);
    }
    if (parameter?.Type === 'SecureString')
      throw new ConfigError(
        `${this.location} is a SecureString; store the config as a String parameter (it is not a secret, and the scanner has no kms:Decrypt for it)`,
      );
    const version = String(parameter?.Version ?? 'unknown');
    if (knownVersion !== undefined && version === knownVersion) return { kind: 'unchanged' };
    return { kind: 'found', text: parameter?.Value ?? '', version };
  }
}

/** An SSM client with the same timeouts as every other s3scan client. */
export function ssmConfigClient(region: string, maxAttempts = 5): SSMClient {
  return withDeadline(
    new SSMClient({
      region,
      maxAttempts,
      retryMode: 'standard',
      requestHandler: {
        connectionTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
        requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    }),
  );
}

function awsFailure(operation: string, error: unknown): Error {
  const status = httpStatus(error);
  const detail = String((error as Error)?.message ?? error).slice(0, 300);
  return new ConfigError(
    `${operation} answered ${errorCode(error)}${status ? ` (HTTP ${status})` : ''}: ${detail}`,
    { cause: error },
  );
}
