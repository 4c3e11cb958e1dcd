/**
 * A worker thread that gunzips and counts CSV inventory data files sent to it by
 * {@link InventoryWorkers}: the compressed bytes arrive as messages (the main thread keeps the
 * S3 client and the MD5), the file's aggregates go back when its last byte is counted.
 */
import { parentPort } from 'node:worker_threads';
import { createGunzip, type Gunzip } from 'node:zlib';
import { ObjectAggregator } from './aggregate.js';
import { csvRowCounter, GUNZIP_CHUNK } from './inventory-csv.js';

/** What the main thread sends for one data file. */
export type WorkerRequest =
  | { t: 'start'; id: number; columns: string[]; versions: boolean }
  | { t: 'chunk'; id: number; bytes: ArrayBuffer }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number };

/** What the worker answers: an ack per chunk consumed, then the aggregates or the error. */
export type WorkerReply =
  | { t: 'ack'; id: number }
  | { t: 'done'; id: number; evidence: ReturnType<ObjectAggregator['result']> }
  | { t: 'failed'; id: number; name: string; code?: string; message: string };

const port = parentPort;
if (port) {
  const jobs = new Map<number, Gunzip>();
  const fail = (id: number, error: unknown) => {
    const e = error as { name?: string; code?: string; message?: string };
    jobs.get(id)?.destroy();
    jobs.delete(id);
    port.postMessage({
      t: 'failed',
      id,
      name: e?.name ?? 'Error',
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
      message: String(e?.message ?? error),
    } satisfies WorkerReply);
  };
  port.on('message', (request: WorkerRequest) => {
    const { id } = request;
    if (request.t === 'start') {
      try {
        const aggregator = new ObjectAggregator('inventory', request.versions);
        const counter = csvRowCounter(request.columns, aggregator);
        const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
        gunzip.on('data', (chunk: Buffer) => {
          try {
            counter.push(chunk);
          } catch (error) {
            fail(id, error);
          }
        });
        gunzip.on('end', () => {
          if (!jobs.has(id)) return;
          try {
            counter.end();
            jobs.delete(id);
            port.postMessage({
              t: 'done',
              id,
              evidence: aggregator.result(true),
            } satisfies WorkerReply);
          } catch (error) {
            fail(id, error);
          }
        });
        gunzip.on('error', (error) => fail(id, error));
        jobs.set(id, gunzip);
      } catch (error) {
        fail(id, error);
      }
      return;
    }
    const gunzip = jobs.get(id);
    if (!gunzip) return;
    if (request.t === 'chunk')
      gunzip.write(Buffer.from(request.bytes), () =>
        port.postMessage({ t: 'ack', id } satisfies WorkerReply),
      );
    else if (request.t === 'end') gunzip.end();
    else {
      gunzip.destroy();
      jobs.delete(id);
    }
  });
}
