/**
 * Worker threads for reading an S3 Inventory delivery on every core: the main thread
 * downloads each data file and computes its MD5; a worker gunzips it and counts its rows
 * (the part that costs CPU). Without the worker's bundle beside this module (the Lambdas,
 * tests run from source) there is no pool and files are counted on the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InventoryUnavailableError } from '../../errors.js';
import type { ObjectScanEvidence } from '../../evidence/types.js';
import type { WorkerReply, WorkerRequest } from './inventory-worker.js';

/** Compressed chunks sent to a worker and not yet consumed: bounds the memory per file. */
const CHUNKS_IN_FLIGHT = 8;

/** Where the worker's bundle is: beside the bundle this module is part of. */
const BUNDLED_WORKER = new URL('./inventory-worker.js', import.meta.url);

interface Job {
  onAck: () => void;
  resolve: (evidence: ObjectScanEvidence) => void;
  reject: (error: Error) => void;
}

/** A pool of inventory workers, one file at a time each. */
export class InventoryWorkers {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private closing = false;
  /** Why the pool can count no more (a worker crashed): every later file is refused with it. */
  private broken: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => this.answer(reply));
      worker.on('error', (error) => this.crashed(error));
      worker.on('exit', (code) => {
        if (!this.closing) this.crashed(new Error(`an inventory worker stopped (exit ${code})`));
      });
      worker.unref();
      this.idle.push(worker);
    }
  }

  /**
   * Starts `size` workers (default one per core), or answers undefined when there is no worker
   * bundle to start.
   */
  public static start(options: { size?: number; entry?: URL } = {}): InventoryWorkers | undefined {
    const entry = options.entry ?? BUNDLED_WORKER;
    if (entry.protocol !== 'file:' || !existsSync(fileURLToPath(entry))) return undefined;
    const size = Math.max(1, options.size ?? availableParallelism());
    // The TypeScript source (tests) loads through tsx, registered inside the worker.
    const spawn = entry.pathname.endsWith('.ts')
      ? () =>
          new Worker(
            `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
            { eval: true },
          )
      : () => new Worker(entry);
    return new InventoryWorkers(Array.from({ length: size }, spawn));
  }

  /** How many files can be counted at once. */
  public get size(): number {
    return this.workers.length;
  }

  /** Counts one gzip CSV data file (its compressed bytes) on a worker. */
  public async count(
    compressed: Readable,
    delivery: { columns: readonly string[]; versions: boolean },
  ): Promise<ObjectScanEvidence> {
    const worker = await this.acquire();
    if (this.broken) {
      this.release(worker);
      throw this.broken;
    }
    const id = this.nextId++;
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const done = new Promise<ObjectScanEvidence>((resolve, reject) => {
      this.jobs.set(id, {
        onAck: () => {
          inFlight -= 1;
          wake?.();
        },
        resolve,
        reject,
      });
    });
    // The answer may come early (a bad row): never an unhandled rejection while sending.
    done.catch(() => undefined);
    const send = (request: WorkerRequest, transfer: ArrayBuffer[] = []) =>
      worker.postMessage(request, transfer);
    try {
      send({ t: 'start', id, columns: [...delivery.columns], versions: delivery.versions });
      for await (const chunk of compressed) {
        const bytes = chunk as Buffer;
        // A copy of its own: a stream's Buffer may share a pool that must not be transferred.
        const own = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        inFlight += 1;
        send({ t: 'chunk', id, bytes: own as ArrayBuffer }, [own as ArrayBuffer]);
        while (inFlight >= CHUNKS_IN_FLIGHT && this.jobs.has(id))
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        if (!this.jobs.has(id)) break;
      }
      send({ t: 'end', id });
      return await done;
    } catch (error) {
      send({ t: 'abort', id });
      this.jobs.delete(id);
      throw error;
    } finally {
      this.release(worker);
    }
  }

  /** Stops every worker. */
  public async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private answer(reply: WorkerReply): void {
    const job = this.jobs.get(reply.id);
    if (!job) return;
    if (reply.t === 'ack') {
      job.onAck();
      return;
    }
    this.jobs.delete(reply.id);
    job.onAck();
    if (reply.t === 'done') job.resolve(reply.evidence);
    else
      job.reject(
        reply.name === 'InventoryUnavailableError' && reply.code
          ? new InventoryUnavailableError(reply.code, reply.message)
          : Object.assign(new Error(reply.message), {
              name: reply.name,
              ...(reply.code ? { code: reply.code } : {}),
            }),
      );
  }

  private crashed(error: Error): void {
    this.broken ??= error;
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id);
      job.reject(error);
    }
  }

  private acquire(): Promise<Worker> {
    const worker = this.idle.pop();
    if (worker) return Promise.resolve(worker);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }
}
