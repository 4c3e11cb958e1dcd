import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { mergeAggregates } from '../lib/collect/objects/aggregate.js';
import { readInventoryFile } from '../lib/collect/objects/inventory.js';
import type { ObjectScanEvidence } from '../lib/evidence/types.js';
import { report, timeIt } from './common.js';

const SCHEMA = ['Bucket', 'Key', 'Size', 'LastModifiedDate', 'StorageClass', 'EncryptionStatus'];
const STATUSES = ['SSE-S3', 'SSE-S3', 'SSE-S3', 'SSE-KMS', 'NOT-SSE', 'SSE-C'];

/** One gzip CSV data file of `rows` objects, as S3 Inventory writes it (no header). */
function dataFile(rows: number, seed: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const n = seed * rows + i;
    lines.push(
      `"big","logs/2026/${n % 365}/part-${String(n).padStart(10, '0')}.json.gz","${(n % 9000) + 100}","2026-0${1 + (n % 9)}-01T00:00:00.000Z","STANDARD","${STATUSES[n % STATUSES.length]}"`,
    );
  }
  return gzipSync(`${lines.join('\n')}\n`);
}

/** An S3 client that answers GetObject with the file's bytes at once: reading is what is timed. */
function fileClient(body: Buffer): S3Client {
  return {
    send: async () => ({ Body: Readable.from([body]) }),
  } as unknown as S3Client;
}

/**
 * Inventory fan-out, measured then modelled: one Lambda's throughput reading one data file
 * (gzip CSV parsed and aggregated; the MD5 checked), then the wall time of a
 * 1,000,000,000-object bucket whose delivery is 1,000 files of 1,000,000 objects read as items
 * of the object-parts map at MaxConcurrency 40: ceil(files / 40) waves x one file's time.
 * Target < 10 minutes. Beside it, the naive way (one process reading the files one after
 * another) and the Step Functions cost from the list price.
 */
export async function benchInventoryFanout(quick: boolean): Promise<void> {
  const rowsPerFile = quick ? 100_000 : 400_000;
  const body = dataFile(rowsPerFile, 1);
  const delivery = {
    choice: {
      configuration: { Id: 'daily' },
      destinationBucket: 'dest',
      manifestKey: 'big/daily/2026-11-30T01-00Z/manifest.json',
      createdAt: '2026-11-30T01:00:00.000Z',
    },
    format: 'CSV' as const,
    columns: SCHEMA,
    versions: false,
  };
  const file = { key: 'big/daily/data/0.csv.gz', size: body.length, MD5checksum: '' };
  const readOnce = () =>
    readInventoryFile({ s3: fileClient(body), delivery, file, limit: (fn) => fn() });
  await readOnce();
  const runs: number[] = [];
  let evidence: ObjectScanEvidence | undefined;
  for (let i = 0; i < 3; i++) {
    const { result, ms } = await timeIt(readOnce);
    runs.push(ms);
    evidence = result;
  }
  const ms = runs.sort((a, b) => a - b)[1]!;
  const rowsPerSecond = rowsPerFile / (ms / 1000);
  // The merge of 1,000 parts, measured: finalize's cost of the fan-out.
  const parts = Array.from({ length: 1000 }, () => evidence!);
  const merge = await timeIt(async () => mergeAggregates(parts, 'in-order'));

  const objects = 1_000_000_000;
  const files = 1000;
  const maxConcurrency = 40;
  const perFileObjects = objects / files;
  // A file's time: its parse (measured), plus its transfer, modelled apart because the
  // synthetic rows compress far better than real keys: 40 bytes of gzip a row (real
  // inventories: long keys, ETags) at 50 MB/s per Lambda stream [assumed, not measured here],
  // plus 50 ms to the GET's first byte. Parsing and transfer are not overlapped: an upper bound.
  const transferSeconds = (perFileObjects * 40) / 50e6 + 0.05;
  const fileSeconds = perFileObjects / rowsPerSecond + transferSeconds;
  const waves = Math.ceil(files / maxConcurrency);
  const wallSeconds = waves * fileSeconds + merge.ms / 1000;
  const naiveSeconds = files * fileSeconds;
  report({
    bench: 'inventory-fanout',
    metric: 'file-read-rows-per-second',
    value: Math.round(rowsPerSecond),
    unit: 'rows/s',
    note: `one inventory data file of ${rowsPerFile} rows (${(body.length / 2 ** 20).toFixed(1)} MiB gzip CSV) read, MD5-checked and aggregated in ${ms.toFixed(0)} ms (median of 3) on one core of this machine`,
  });
  report({
    bench: 'inventory-fanout',
    metric: 'billion-object-wall-minutes',
    value: Number((wallSeconds / 60).toFixed(2)),
    unit: 'minutes',
    note: `model: 1e9 objects in ${files} files of ${perFileObjects} at MaxConcurrency ${maxConcurrency}: ${waves} waves x ${fileSeconds.toFixed(1)} s a file (parse ${(perFileObjects / rowsPerSecond).toFixed(1)} s measured + transfer ${transferSeconds.toFixed(1)} s modelled) + ${merge.ms.toFixed(0)} ms to merge 1,000 parts = ${(wallSeconds / 60).toFixed(1)} min (target < 10); the naive one-process read takes ${(naiveSeconds / 60).toFixed(0)} min (${(naiveSeconds / wallSeconds).toFixed(0)}x), past Lambda's 15-minute limit`,
  });
  // Per part item: the child execution's ScanObjectPart (Task), MorePart (Choice) and PartDone
  // (Pass) = 3 transitions (a checkpointed part loops: +3 a round); per bucket the parent adds
  // PlanObjectParts, AnyObjectParts, the map state and Finalize, counted once.
  const transitions = files * 3 + 4;
  const pricePer1000 = 0.025; // USD, Standard workflows, us-east-1: https://aws.amazon.com/step-functions/pricing/
  const lambdaGbSeconds = files * fileSeconds * 1; // 1 GB functions
  const lambdaPrice = 0.0000133334; // USD per GB-s, arm64, us-east-1: https://aws.amazon.com/lambda/pricing/
  report({
    bench: 'inventory-fanout',
    metric: 'state-transitions-per-billion-objects',
    value: transitions,
    unit: 'transitions',
    note: `${transitions} state transitions for 1e9 objects in ${files} files = $${((transitions / 1000) * pricePer1000).toFixed(3)} at $${pricePer1000} per 1,000 (Standard, us-east-1); the Lambda time beside it: ${Math.round(lambdaGbSeconds)} GB-s = $${(lambdaGbSeconds * lambdaPrice).toFixed(2)} at 1 GB arm64`,
  });
}
