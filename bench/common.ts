import type { S3Client } from '@aws-sdk/client-s3';
/** One benchmark figure, printed as a JSON line (DESIGN.md section 6). */
export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  note: string;
}

/** Prints a figure as one JSON line on stdout. */
export function report(figure: Figure): void {
  const value = Number.isInteger(figure.value) ? figure.value : Number(figure.value.toFixed(3));
  process.stdout.write(`${JSON.stringify({ ...figure, value })}\n`);
}

/** Wall-clock milliseconds of an async function. */
export async function timeIt<T>(fn: () => Promise<T> | T): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - start };
}

/**
 * An S3 client answering ListObjectsV2 and HeadObject for one bucket of `objects` keys, in
 * process: no HTTP, so what a benchmark measures is the sweep's, not a server's or the SDK's.
 * Bundlers may rename command classes, so HEAD is told from LIST by its input. `onHead` sees
 * each HeadObject's key and may answer it (default: SSE-S3).
 */
export function inProcessBucket(
  objects: number,
  key: (i: number) => string,
  onHead: (key: string) => Record<string, unknown> = () => ({ ServerSideEncryption: 'AES256' }),
): S3Client {
  return {
    config: {},
    send: async (command: { input: { ContinuationToken?: string; Key?: string } }) => {
      if (command.input.Key !== undefined) return onHead(command.input.Key);
      const start = Number(command.input.ContinuationToken ?? 0);
      const end = Math.min(objects, start + 1000);
      return {
        Contents: Array.from({ length: end - start }, (_, i) => ({
          Key: key(start + i),
          Size: 10,
          StorageClass: 'STANDARD',
        })),
        IsTruncated: end < objects,
        ...(end < objects ? { NextContinuationToken: String(end) } : {}),
      };
    },
  } as unknown as S3Client;
}
