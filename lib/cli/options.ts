import { InvalidArgumentError } from 'commander';
import type { ClientOptions } from '../collect/clients.js';
import type { LoadedConfig } from '../config/config.js';
import { SEVERITIES, type Severity } from '../engine/types.js';

/** `--fail-on`: one of the severities. */
export function parseSeverity(value: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${SEVERITIES.join(', ')}`);
  }
  return value as Severity;
}

/** `--concurrency`, `--inventory-max-age`: an integer from 1 to 256. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('must be an integer from 1 to 256');
  return n;
}

/** `--port`: 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number from 0 (any free one) to 65535');
  return n;
}

/** An S3 endpoint URL: http(s), host, optional port and path, nothing else. */
export function parseEndpointUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL such as https://s3.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidArgumentError(`must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash)
    throw new InvalidArgumentError('must not carry credentials, a query or a fragment');
  return value;
}

/** `--sample-size`: 1 to 100,000 objects per bucket. */
export function parseSampleSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new InvalidArgumentError('must be an integer from 1 to 100000');
  return n;
}

/** A repeatable, comma-separated list option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter(Boolean)];
}

/** The AWS clients' options of a command: the config's scan settings and the flags. */
export function clientOptionsOf(
  config: LoadedConfig,
  options: { profile?: string; endpointUrl?: string; pathStyle?: boolean },
): ClientOptions {
  return {
    maxAttempts: config.scan.maxAttempts,
    retryMode: config.scan.retryMode,
    connectTimeoutMs: config.scan.connectTimeoutMs,
    requestTimeoutMs: config.scan.requestTimeoutMs,
    callDeadlineMs: config.scan.callDeadlineMs,
    timeoutRetries: config.scan.timeoutRetries,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpointUrl ? { s3Endpoint: options.endpointUrl } : {}),
    ...(options.pathStyle ? { forcePathStyle: true } : {}),
  };
}
