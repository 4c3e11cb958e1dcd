// Object-level benchmarks (issue 4). Paths are relative to the bundle in dist/bench/.
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { createGzip } from 'node:zlib';
import { type GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { Limiter } from '../lib/collect/buckets.js';
import type { HeadTransport } from '../lib/collect/objects/direct-head.js';
import { readInventory } from '../lib/collect/objects/inventory.js';
import { sweepBucket } from '../lib/collect/objects/sweep.js';
import { inProcessBucket, report, timeIt } from './common.js';

const limiterOf = (concurrency: number): Limiter => {
  const limit = pLimit(concurrency);
  return (fn) => limit(fn);
};

/**
 * A fake S3 on 127.0.0.1, in a worker thread so its CPU is not the sweep's: ListObjectsV2 and
 * HeadObject, every answer after `latencyMs`. Bucket `n<N>` holds N keys, so one warm server
 * serves sweeps of any size.
 */
async function startServer(
  latencyMs: number,
): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const source = `
    const { createServer } = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const { latencyMs } = workerData;
    const key = (i) => 'data/' + String(i).padStart(8, '0') + '.bin';
    const server = createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const objects = Number(url.pathname.split('/')[1].slice(1));
      const reply = (status, headers, body) => setTimeout(() => { res.writeHead(status, headers); res.end(body); }, latencyMs);
      if (req.method === 'HEAD') {
        const i = Number(url.pathname.split('/').pop().replace(/\\D/g, ''));
        return reply(200, i % 10 === 0 ? { 'content-length': '10' } : { 'content-length': '10', 'x-amz-server-side-encryption': 'AES256' });
      }
      const start = Number(url.searchParams.get('continuation-token') || 0);
      const end = Math.min(objects, start + 1000);
      let body = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>';
      for (let i = start; i < end; i++) body += '<Contents><Key>' + key(i) + '</Key><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>';
      body += '<IsTruncated>' + (end < objects) + '</IsTruncated>' + (end < objects ? '<NextContinuationToken>' + end + '</NextContinuationToken>' : '') + '</ListBucketResult>';
      reply(200, { 'content-type': 'application/xml' }, body);
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => server.close(() => process.exit(0)));
  `;
  const worker = new Worker(source, { eval: true, workerData: { latencyMs } });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => void (await worker.terminate()),
  };
}

type Server = Awaited<ReturnType<typeof startServer>>;

async function sweepOverHttp(
  server: Server,
  objects: number,
  concurrency: number,
  headTransport: HeadTransport = 'direct',
) {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    maxAttempts: 3,
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  });
  try {
    const { result, ms } = await timeIt(() =>
      sweepBucket({
        s3,
        bucket: `n${objects}`,
        owner: '111122223333',
        mode: 'full',
        versions: false,
        sampleSize: 1,
        limit: limiterOf(concurrency),
        headTransport,
      }),
    );
    if (!('evidence' in result) || result.evidence.classified !== objects)
      throw new Error('the sweep did not classify every object');
    return { headsPerSecond: objects / (ms / 1000), ms };
  } finally {
    s3.destroy();
  }
}

/** HEAD sweep against a local HTTP S3 with fixed latency: concurrency pays, up to the SDK's CPU. */
export async function benchHeadSweep(quick: boolean): Promise<void> {
  const objects = quick ? 6000 : 24_000;
  const server = await startServer(20);
  const idle = await startServer(0);
  try {
    await measureHeadSweep(server, idle, objects, quick);
  } finally {
    await server.stop();
    await idle.stop();
  }
}

async function measureHeadSweep(server: Server, idle: Server, objects: number, quick: boolean) {
  const C = 64;
  const L = 20;
  const limit = C / (L / 1000);
  // A sweep of millions of objects runs JIT-compiled code nearly all the time: the first
  // 3,000 HEADs of the process (compilation, first sockets) are reported apart.
  const cold = await sweepOverHttp(server, 3000, C);
  const swept = await sweepOverHttp(server, objects, C);
  report({
    bench: 'head-sweep',
    metric: 'efficiency',
    value: swept.headsPerSecond / limit,
    unit: 'ratio',
    note: `achieved HEAD/s ${swept.headsPerSecond.toFixed(0)} / (C/L) ${limit}, C=${C}, L=${L}ms, ${objects} objects over HTTP on 127.0.0.1; target 0.85`,
  });
  report({
    bench: 'head-sweep',
    metric: 'cold-efficiency',
    value: cold.headsPerSecond / limit,
    unit: 'ratio',
    note: `the process's first 3,000 HEADs, before the JIT warms up: ${cold.headsPerSecond.toFixed(0)} HEAD/s`,
  });
  const naiveObjects = quick ? 100 : 300;
  const naive = await sweepOverHttp(server, naiveObjects, 1);
  report({
    bench: 'head-sweep',
    metric: 'speedup-vs-sequential',
    value: swept.headsPerSecond / naive.headsPerSecond,
    unit: 'ratio',
    note: `bounded concurrency ${swept.headsPerSecond.toFixed(0)}/s vs the sequential loop ${naive.headsPerSecond.toFixed(1)}/s (floor 1/L = ${1000 / L}/s)`,
  });
  // The same sweep with every HEAD through the SDK's middleware stack (s3.send).
  const viaSdk = await sweepOverHttp(server, objects, C, 'sdk');
  report({
    bench: 'head-sweep',
    metric: 'sdk-transport-efficiency',
    value: viaSdk.headsPerSecond / limit,
    unit: 'ratio',
    note: `HeadObject through s3.send: ${viaSdk.headsPerSecond.toFixed(0)} HEAD/s / (C/L) ${limit}; the direct transport is ${(swept.headsPerSecond / viaSdk.headsPerSecond).toFixed(2)}x that`,
  });
  // The CPU floor: the same sweep with no latency shows what one core allows per transport.
  const cpuBound = await sweepOverHttp(idle, objects, C);
  const sdkCpuBound = await sweepOverHttp(idle, objects, C, 'sdk');
  report({
    bench: 'head-sweep',
    metric: 'vs-cpu-bound',
    value: swept.headsPerSecond / Math.min(limit, cpuBound.headsPerSecond),
    unit: 'ratio',
    note: `achieved / min(C/L, ${cpuBound.headsPerSecond.toFixed(0)} HEAD/s with zero latency); through s3.send the zero-latency rate is ${sdkCpuBound.headsPerSecond.toFixed(0)} HEAD/s`,
  });
}

/** Peak RSS while sweeping a million objects through a client that answers at once. */
export async function benchSweepMemory(quick: boolean): Promise<void> {
  const objects = quick ? 200_000 : 1_000_000;
  const key = (i: number) => `data/${String(i).padStart(8, '0')}.bin`;
  // An in-process client: the memory under test is the sweep's, not the SDK's.
  const s3 = inProcessBucket(objects, key, (k) =>
    Number(k.slice(5, 13)) % 10 === 0 ? {} : { ServerSideEncryption: 'AES256' },
  );
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const { ms } = await timeIt(() =>
    sweepBucket({
      s3,
      bucket: 'b',
      owner: '1',
      mode: 'full',
      versions: false,
      sampleSize: 1,
      limit: limiterOf(64),
      onObject: () => undefined,
    }),
  );
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  report({
    bench: 'head-sweep',
    metric: 'peak-rss',
    value: peak / 2 ** 20,
    unit: 'MiB',
    note: `${objects} objects swept in ${(ms / 1000).toFixed(1)}s; RSS before ${(before / 2 ** 20).toFixed(0)} MiB; target < 300 MiB`,
  });
}

/** Writes an inventory-style gzip CSV of `rows` rows (no header, URL-encoded keys). */
async function writeInventoryCsv(path: string, rows: number): Promise<void> {
  const statuses = [
    'SSE-S3',
    'SSE-KMS',
    'SSE-S3',
    'SSE-KMS',
    'NOT-SSE',
    'SSE-S3',
    'SSE-C',
    'SSE-S3',
  ];
  const classes = ['STANDARD', 'STANDARD_IA', 'GLACIER', 'INTELLIGENT_TIERING'];
  async function* lines() {
    let chunk = '';
    for (let i = 0; i < rows; i++) {
      chunk += `"src","logs/2024/${i % 97}/object+${i}.json","","true","false","${(i * 37) % 100000}","2024-05-01T00:00:00.000Z","${classes[i % 4]}","${statuses[i % 8]}","ENABLED"\n`;
      if (chunk.length > 1 << 20) {
        yield chunk;
        chunk = '';
      }
    }
    yield chunk;
  }
  await pipeline(Readable.from(lines()), createGzip({ level: 6 }), createWriteStream(path));
}

/** Inventory classification against `zcat | wc -l` (the floor) and DuckDB on the same file. */
export async function benchInventory(quick: boolean): Promise<void> {
  const rows = quick ? 500_000 : 5_000_000;
  // A delivery of several data files, as S3 Inventory writes a large bucket's.
  const FILES = 4;
  const dir = await mkdtemp(join(tmpdir(), 's3scan-bench-inventory-'));
  const paths = Array.from({ length: FILES }, (_, i) => join(dir, `part-${i}.csv.gz`));
  try {
    for (const path of paths) await writeInventoryCsv(path, rows / FILES);
    const sizes = await Promise.all(paths.map(async (p) => (await stat(p)).size));
    const size = sizes.reduce((a, b) => a + b, 0);
    const path = paths.join(' ');
    const { ms: zcatMs } = await timeIt(() => execFileSync('bash', ['-c', `zcat ${path} | wc -l`]));
    const floor = rows / (zcatMs / 1000);

    const { createReadStream } = await import('node:fs');
    const s3 = {
      send: async (command: GetObjectCommand) => ({
        Body: createReadStream(join(dir, String(command.input.Key).replace('data/', ''))),
      }),
    } as unknown as S3Client;
    const manifestText = JSON.stringify({
      sourceBucket: 'src',
      destinationBucket: 'arn:aws:s3:::d',
      creationTimestamp: '0',
      fileFormat: 'CSV',
      fileSchema:
        'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, StorageClass, EncryptionStatus, BucketKeyStatus',
      files: paths.map((_, i) => ({
        key: `data/part-${i}.csv.gz`,
        size: sizes[i],
        MD5checksum: '',
      })),
    });
    const manifestS3 = {
      send: async (command: GetObjectCommand) =>
        command.input.Key?.endsWith('manifest.json')
          ? { Body: Readable.from([manifestText]) }
          : command.input.Key?.endsWith('manifest.checksum')
            ? Promise.reject(
                Object.assign(new Error('NoSuchKey'), { $metadata: { httpStatusCode: 404 } }),
              )
            : s3.send(command as never),
    } as unknown as S3Client;
    global.gc?.();
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const read = (filesInParallel?: number) =>
      timeIt(() =>
        readInventory({
          s3: manifestS3,
          choice: {
            configuration: { Id: 'daily', IncludedObjectVersions: 'Current' },
            destinationBucket: 'd',
            manifestKey: 'src/daily/2026-10-31T01-00Z/manifest.json',
            createdAt: '2026-10-31T01:00:00.000Z',
          },
          limit: (fn) => fn(),
          ...(filesInParallel ? { filesInParallel } : {}),
        }),
      );
    const sequential = await read(1);
    const { result, ms } = await read();
    clearInterval(sampler);
    if (result.listed !== rows) throw new Error(`read ${result.listed} rows, expected ${rows}`);
    const rate = rows / (ms / 1000);
    report({
      bench: 'inventory',
      metric: 'vs-zcat-wc',
      value: rate / floor,
      unit: 'ratio',
      note: `classified ${rate.toFixed(0)} rows/s vs zcat|wc -l ${floor.toFixed(0)} rows/s on ${rows} rows in ${FILES} files (${(size / 2 ** 20).toFixed(0)} MiB gzip); target >= 1.0`,
    });
    report({
      bench: 'inventory',
      metric: 'parallel-vs-sequential',
      value: sequential.ms / ms,
      unit: 'ratio',
      note: `the ${FILES} files side by side in ${ms.toFixed(0)} ms against one after another in ${sequential.ms.toFixed(0)} ms (the naive way)`,
    });
    report({
      bench: 'inventory',
      metric: 'peak-rss',
      value: peak / 2 ** 20,
      unit: 'MiB',
      note: 'while classifying the inventory file; target < 300 MiB',
    });

    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const { ms: duckMs } = await timeIt(() =>
      connection.runAndReadAll(
        `SELECT column8 AS status, count(*), sum(CAST(column5 AS BIGINT)) FROM read_csv([${paths.map((p) => `'${p}'`).join(', ')}], header=false, all_varchar=true) GROUP BY 1`,
      ),
    );
    report({
      bench: 'inventory',
      metric: 'vs-duckdb',
      value: rate / (rows / (duckMs / 1000)),
      unit: 'ratio',
      note: `s3scan ${rate.toFixed(0)} rows/s vs DuckDB read_csv + GROUP BY ${(rows / (duckMs / 1000)).toFixed(0)} rows/s (DuckDB uses both cores)`,
    });
    connection.closeSync();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** API calls and dollars per million objects, inventory against a full HEAD sweep. */
export function costModel(): void {
  // us-east-1 list prices (aws-facts.md section 6, to be checked on https://aws.amazon.com/s3/pricing/):
  const inventoryPerMillion = 0.0025; // S3 Inventory, per million objects listed
  const getPer1000 = 0.0004; // GET/HEAD requests
  const listPer1000 = 0.005; // LIST requests
  const sweepCalls = 1_000_000 + 1_000; // one HEAD per object, one LIST per 1,000
  const sweepDollars = (1_000_000 / 1000) * getPer1000 + (1_000 / 1000) * listPer1000;
  const inventoryCalls = 2 + 1; // manifest, checksum, and ~1 data file GET per million rows
  const inventoryDollars = inventoryPerMillion + (inventoryCalls / 1000) * getPer1000;
  report({
    bench: 'cost-model',
    metric: 'full-sweep-dollars-per-million',
    value: sweepDollars,
    unit: 'USD',
    note: `${sweepCalls} calls per million objects at $${getPer1000}/1k HEAD + $${listPer1000}/1k LIST (us-east-1 list prices)`,
  });
  report({
    bench: 'cost-model',
    metric: 'inventory-dollars-per-million',
    value: inventoryDollars,
    unit: 'USD',
    note: `~${inventoryCalls} GETs per million objects + $${inventoryPerMillion}/million listed (S3 Inventory)`,
  });
  report({
    bench: 'cost-model',
    metric: 'sweep-vs-inventory',
    value: sweepDollars / inventoryDollars,
    unit: 'ratio',
    note: 'how many times more a full HEAD sweep costs than reading S3 Inventory',
  });
}
