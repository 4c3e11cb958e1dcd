// Bounds under faults and size (issue 23): a never-answered call, S3 requests per bucket at
// --objects none, a full sweep's memory at 200,000 and 2,000,000 objects, Ctrl-C at 2,000,000.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { AwsClients } from '../lib/collect/clients.js';
import { sweepObjects } from '../lib/collect/object-source.js';
import { collectEvidence } from '../lib/collect/scan.js';
import type { BucketEvidence } from '../lib/evidence/types.js';
import { LocalWorkArea } from '../lib/report-store/local-work-area.js';
import { chunkedObjectSink } from '../lib/report-store/object-chunks.js';
import { startFakeAccount } from '../tests/helpers/fake-account.js';
import { inProcessBucket, report, timeIt } from './common.js';

/** A TCP server that accepts and never answers: the worst an endpoint can do. */
async function silentServer(): Promise<{ endpoint: string; close: () => void }> {
  const sockets: import('node:net').Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * A GetBucketPolicy that is never answered: the time to its ERROR with the call deadline
 * against the same client without it (maxAttempts × requestTimeout plus backoff, the naive
 * way), scaled down to a 1 s request timeout and a 3 s deadline.
 */
async function neverAnswered(): Promise<void> {
  const server = await silentServer();
  const attempt = async (bounded: boolean) => {
    const clients = new AwsClients(
      {
        maxAttempts: 10,
        endpoint: server.endpoint,
        forcePathStyle: true,
        requestTimeoutMs: 1_000,
        callDeadlineMs: bounded ? 3_000 : 3_600_000,
        timeoutRetries: bounded ? 2 : 10,
        credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      },
      'us-east-1',
    );
    const { GetBucketPolicyCommand } = await import('@aws-sdk/client-s3');
    try {
      const { ms, result } = await timeIt(() =>
        clients
          .s3('us-east-1')
          .send(new GetBucketPolicyCommand({ Bucket: 'stuck' }))
          .then(
            () => 'answered',
            (error: Error) => error.name,
          ),
      );
      return { ms, error: result };
    } finally {
      clients.destroy();
    }
  };
  try {
    const bounded = await attempt(true);
    const naive = await attempt(false);
    report({
      bench: 'bounds',
      metric: 'never-answered-to-error',
      value: bounded.ms / 1000,
      unit: 's',
      note: `${bounded.error} after ${(bounded.ms / 1000).toFixed(1)} s with a 3 s deadline; without it (10 attempts of 1 s, the naive way) ${naive.error} after ${(naive.ms / 1000).toFixed(1)} s, ${(naive.ms / bounded.ms).toFixed(1)}x longer. Defaults scale it: 60 s against 10 x 30 s = 300 s`,
    });
  } finally {
    server.close();
  }
}

/** S3 requests per bucket of a bucket-level scan, against one that also reads objects' needs. */
async function requestsPerBucket(): Promise<void> {
  const BUCKETS = 50;
  const server = await startFakeAccount({
    account: '111122223333',
    buckets: Array.from({ length: BUCKETS }, (_, i) => ({
      name: `bucket-${String(i).padStart(3, '0')}`,
      region: 'us-east-1',
      objects: [],
    })),
  });
  const count = async (mode?: 'sample') => {
    const clients = new AwsClients(
      {
        maxAttempts: 3,
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      },
      'us-east-1',
    );
    try {
      await collectEvidence({
        clients,
        concurrency: 16,
        scanId: 'bench',
        scanTime: new Date(),
        toolVersion: 'bench',
        ...(mode ? { objects: { mode, versions: false, sampleSize: 1 } } : {}),
      });
      return server.requests.length;
    } finally {
      clients.destroy();
      server.requests.length = 0;
    }
  };
  try {
    const none = await count();
    const sample = await count('sample');
    report({
      bench: 'bounds',
      metric: 's3-requests-per-bucket-objects-none',
      value: none / BUCKETS,
      unit: 'requests',
      note: `${none} requests for ${BUCKETS} buckets at --objects none (encryption, policy, policy status per bucket, and per account and region ListBuckets, ListDirectoryBuckets, access points); with an object mode ${(sample / BUCKETS).toFixed(2)} (versioning and listings added); target <= 4`,
    });
  } finally {
    await server.close();
  }
}

/** Runs one sweep measurement in a fresh process, so its RSS is its own. */
function sweepIn(args: string[]): {
  peakMiB: number;
  startMiB: number;
  heapMiB: number;
  ms: number;
  exitMs?: number;
} {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--only', 'bounds-sweep-measure', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 2 ** 20 },
  );
  if (child.status !== 0) throw new Error(`the sweep measurement failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
}

/** Sweep memory at two sizes, with the CSV keeping up and without (the naive way), and Ctrl-C. */
export async function benchBounds(quick: boolean): Promise<void> {
  await neverAnswered();
  await requestsPerBucket();
  const large = quick ? 500_000 : 2_000_000;
  const small = sweepIn(['--objects', '200000']);
  const big = sweepIn(['--objects', String(large)]);
  const naive = sweepIn(['--objects', '200000', '--no-backpressure']);
  report({
    bench: 'bounds',
    metric: 'sweep-peak-rss',
    value: big.peakMiB,
    unit: 'MiB',
    note: `full sweep with its per-object CSV: ${small.peakMiB.toFixed(0)} MiB at 200,000 objects, ${big.peakMiB.toFixed(0)} MiB at ${large.toLocaleString('en')} (the sweep's own: +${(small.peakMiB - small.startMiB).toFixed(0)} / +${(big.peakMiB - big.startMiB).toFixed(0)} MiB over the ${big.startMiB.toFixed(0)} MiB this benchmark process starts with; heap after GC ${small.heapMiB.toFixed(0)} / ${big.heapMiB.toFixed(0)} MiB); the CSV not waited for (the naive way) +${(naive.peakMiB - naive.startMiB).toFixed(0)} MiB at 200,000; target <= 300 MiB at 2,000,000`,
  });
  const stopped = sweepIn(['--objects', String(large), '--abort-at', String(large / 2)]);
  report({
    bench: 'bounds',
    metric: 'ctrl-c-to-exit',
    value: (stopped.exitMs ?? 0) / 1000,
    unit: 's',
    note: `an abort half way through ${large.toLocaleString('en')} objects: the sweep returned its checkpoint and closed its CSV after ${((stopped.exitMs ?? 0) / 1000).toFixed(2)} s; target <= 5 s`,
  });
}

/**
 * The child half: a full sweep of `--objects` keys from an in-process S3 (no HTTP: the memory
 * is the sweep's and its CSV's), its rows written by the real chunked CSV sink.
 */
export async function measureBoundsSweep(): Promise<void> {
  const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1];
  const objects = Number(arg('--objects'));
  const abortAt = process.argv.includes('--abort-at') ? Number(arg('--abort-at')) : undefined;
  const backpressure = !process.argv.includes('--no-backpressure');
  const key = (i: number) => `data/${String(i).padStart(8, '0')}/object-${i}.bin`;
  const controller = new AbortController();
  let heads = 0;
  let abortedAt = 0;
  const s3 = inProcessBucket(objects, key, () => {
    heads += 1;
    if (heads === abortAt) {
      abortedAt = performance.now();
      controller.abort(new Error('SIGINT'));
    }
    return { ServerSideEncryption: 'AES256', ContentLength: 10 };
  });
  const clients = { s3: () => s3 } as unknown as AwsClients;
  const dir = mkdtempSync(join(tmpdir(), 's3scan-bench-sweep-'));
  const work = new LocalWorkArea(dir);
  const bucket = {
    name: 'big',
    region: 'us-east-1',
    accountId: '111122223333',
    partition: 'aws',
  } as BucketEvidence;
  global.gc?.();
  const startMiB = process.memoryUsage().rss / 2 ** 20;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const limiter = pLimit(64);
  // As the scan's own limiter: nothing new starts once the scan is aborted.
  const limit = <T>(fn: () => Promise<T>) =>
    limiter(() => {
      controller.signal.throwIfAborted();
      return fn();
    });
  try {
    const { ms } = await timeIt(() =>
      sweepObjects({
        scanTime: new Date(),
        buckets: [bucket],
        sweeps: { big: 'pending' },
        objects: {
          mode: 'full',
          versions: false,
          sampleSize: 1,
          headTransport: 'sdk',
          sinkFor: (b) => {
            const sink = chunkedObjectSink(work, { accountId: b.accountId, name: b.name }, 0);
            return backpressure ? sink : { ...sink, ready: async () => undefined };
          },
        },
        clients,
        limit,
        signal: controller.signal,
      }),
    );
    clearInterval(sampler);
    global.gc?.();
    const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
    process.stdout.write(
      `${JSON.stringify({
        peakMiB: Math.max(peak, process.memoryUsage().rss) / 2 ** 20,
        startMiB,
        heapMiB,
        ms,
        ...(abortAt ? { exitMs: performance.now() - abortedAt } : {}),
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
