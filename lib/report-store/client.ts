import { S3Client } from '@aws-sdk/client-s3';
import { withDeadline } from '../aws/call-bounds.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../aws/timeouts.js';

/** A report-store upload (an 8 MiB multipart part) may take this long before its answer. */
const STORE_REQUEST_TIMEOUT_MS = 120_000;

/** A store call (an upload part among them) fails after this long over all its attempts. */
const STORE_CALL_DEADLINE_MS = 300_000;

/**
 * The S3 client of the report bucket and work area, for hosts that do not build their own:
 * no call without a timeout (a stalled socket fails after 30 s of silence, a whole request
 * after 2 minutes, which an 8 MiB part needs on a slow link), standard retries.
 */
export function reportStoreClient(region: string, maxAttempts = 5): S3Client {
  return withDeadline(
    new S3Client({
      region,
      maxAttempts,
      retryMode: 'standard',
      // A store named by URL (s3scan report --store s3://…) may be in another region.
      followRegionRedirects: true,
      requestHandler: {
        connectionTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
        requestTimeout: STORE_REQUEST_TIMEOUT_MS,
        socketTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    }),
    STORE_CALL_DEADLINE_MS,
  );
}
