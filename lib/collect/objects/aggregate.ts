import { CollectError } from '../../errors.js';
import type { ObjectObservation } from '../../evidence/object-observation.js';
import type {
  ObjectEncryptionType,
  ObjectScanEvidence,
  ObjectTally,
} from '../../evidence/types.js';

/** The suffix of the S3 Encryption Client's instruction files (`<key>.instruction`). */
export const INSTRUCTION_SUFFIX = '.instruction';

/**
 * True for an S3 Encryption Client instruction file (`<key>.instruction`), which holds the
 * envelope metadata of its sibling object instead of that object's own user metadata.
 */
export function isInstructionFile(key: string): boolean {
  return key.endsWith(INSTRUCTION_SUFFIX);
}

/** At most this many example keys are kept per class. */
export const MAX_EXAMPLES = 100;

function tally(): ObjectTally {
  return { count: 0, bytes: 0, examples: [] };
}

function add(target: ObjectTally, observation: ObjectObservation): void {
  target.count += 1;
  target.bytes += observation.size;
  if (target.examples.length < MAX_EXAMPLES) target.examples.push(observation.key);
}

/** Folds observations into the per-bucket aggregates; constant memory whatever the bucket size. */
export class ObjectAggregator {
  private readonly evidence: ObjectScanEvidence;

  public constructor(
    mode: ObjectScanEvidence['mode'],
    versions: boolean,
    resumeFrom?: ObjectScanEvidence,
  ) {
    this.evidence = resumeFrom
      ? structuredClone(resumeFrom)
      : {
          mode,
          versions,
          complete: false,
          listed: 0,
          classified: 0,
          byEncryption: {},
          noncurrentByEncryption: {},
          byKmsKey: {},
          byStorageClass: {},
          unknownAlgorithms: {},
          clientSide: { v1: 0, v2: 0, v3: 0, instructionFiles: 0 },
          denied: tally(),
          failed: { ...tally(), codes: {} },
          deleteMarkers: 0,
        };
  }

  /** Older checkpoints predate the field, hence the default. */
  private countInstructionFile(): void {
    const clientSide = this.evidence.clientSide;
    clientSide.instructionFiles = (clientSide.instructionFiles ?? 0) + 1;
  }

  public listed(count: number): void {
    this.evidence.listed += count;
  }

  public add(observation: ObjectObservation): void {
    const e = this.evidence;
    const { outcome } = observation;
    switch (outcome.kind) {
      case 'delete-marker':
        e.deleteMarkers += 1;
        return;
      case 'denied':
        add(e.denied, observation);
        return;
      case 'failed':
        add(e.failed, observation);
        e.failed.codes[outcome.code] = (e.failed.codes[outcome.code] ?? 0) + 1;
        return;
      case 'classified': {
        e.classified += 1;
        const byType = observation.isLatest ? e.byEncryption : e.noncurrentByEncryption;
        byType[outcome.type] ??= tally();
        add(byType[outcome.type]!, observation);
        if (outcome.kmsKeyId) {
          e.byKmsKey[outcome.kmsKeyId] ??= tally();
          add(e.byKmsKey[outcome.kmsKeyId]!, observation);
        } else if (outcome.type === 'SSE-KMS' || outcome.type === 'DSSE-KMS') {
          e.kmsKeyUnknown = (e.kmsKeyUnknown ?? 0) + 1;
        }
        if (outcome.likely) e.sseCInferred = (e.sseCInferred ?? 0) + 1;
        if (outcome.type === 'UNKNOWN' && outcome.algorithm) {
          e.unknownAlgorithms[outcome.algorithm] =
            (e.unknownAlgorithms[outcome.algorithm] ?? 0) + 1;
        }
        if (outcome.clientSide) e.clientSide[outcome.clientSide] += 1;
        if (isInstructionFile(observation.key)) this.countInstructionFile();
        if (
          outcome.type === 'SSE-C' &&
          observation.lastModified &&
          (!e.newestSseC || observation.lastModified > e.newestSseC)
        ) {
          e.newestSseC = observation.lastModified;
        }
        e.byStorageClass[observation.storageClass] ??= { count: 0, bytes: 0 };
        const storage = e.byStorageClass[observation.storageClass]!;
        storage.count += 1;
        storage.bytes += observation.size;
      }
    }
  }

  /**
   * The hot path of S3 Inventory rows: counts one classified object without building an
   * observation; the key (URL-decoded, which costs) is only asked for while examples are kept.
   */
  public addClassified(
    type: ObjectEncryptionType,
    algorithm: string | undefined,
    size: number,
    storageClass: string,
    isLatest: boolean,
    lastModified: string | undefined,
    key: () => string,
    instructionFile = false,
  ): void {
    const e = this.evidence;
    if (instructionFile) this.countInstructionFile();
    e.listed += 1;
    e.classified += 1;
    const byType = isLatest ? e.byEncryption : e.noncurrentByEncryption;
    let target = byType[type];
    if (!target) {
      target = tally();
      byType[type] = target;
    }
    target.count += 1;
    target.bytes += size;
    if (target.examples.length < MAX_EXAMPLES) target.examples.push(key());
    if (type === 'UNKNOWN' && algorithm)
      e.unknownAlgorithms[algorithm] = (e.unknownAlgorithms[algorithm] ?? 0) + 1;
    if (type === 'SSE-C' && lastModified && (!e.newestSseC || lastModified > e.newestSseC))
      e.newestSseC = lastModified;
    let storage = e.byStorageClass[storageClass];
    if (!storage) {
      storage = { count: 0, bytes: 0 };
      e.byStorageClass[storageClass] = storage;
    }
    storage.count += 1;
    storage.bytes += size;
  }

  /** Counts a delete marker seen in a listing or inventory. */
  public addDeleteMarker(): void {
    this.evidence.listed += 1;
    this.evidence.deleteMarkers += 1;
  }

  public listFailed(code: string, message: string): void {
    this.evidence.listError = { code, message };
  }

  /** The aggregates so far; `complete` says whether every object was seen. */
  public result(complete: boolean): ObjectScanEvidence {
    return { ...structuredClone(this.evidence), complete };
  }
}

/**
 * How parts' examples combine: `in-order` for parts read one after another (inventory data
 * files: one pass keeps the first examples it meets); `smallest-keys` for key-space
 * partitions swept apart (one listing pass meets keys in S3's order, UTF-8 binary, so its
 * examples are the smallest keys of their class).
 */
export type ExampleOrder = 'in-order' | 'smallest-keys';

/** S3's listing order: UTF-8 bytes, not UTF-16 code units (they differ past U+FFFF). */
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function mergeTally<T extends { count: number; bytes: number; examples?: string[] }>(
  into: T,
  part: T,
  order: ExampleOrder,
): void {
  into.count += part.count;
  into.bytes += part.bytes;
  if (!into.examples || !part.examples) return;
  if (order === 'in-order')
    for (const key of part.examples) {
      if (into.examples.length >= MAX_EXAMPLES) break;
      into.examples.push(key);
    }
  // A stable sort: the versions of one key keep their order.
  else into.examples = [...into.examples, ...part.examples].sort(utf8Order).slice(0, MAX_EXAMPLES);
}

function mergeTallies<T extends { count: number; bytes: number; examples?: string[] }>(
  into: Partial<Record<string, T>>,
  part: Partial<Record<string, T>>,
  order: ExampleOrder,
): void {
  for (const [key, value] of Object.entries(part)) {
    if (!value) continue;
    const target = into[key];
    if (target) mergeTally(target, value, order);
    else into[key] = structuredClone(value);
  }
}

function sumCounts(into: Record<string, number>, part: Record<string, number>): void {
  for (const [key, n] of Object.entries(part)) into[key] = (into[key] ?? 0) + n;
}

/**
 * The aggregates of one object source read in parts (the data files of an S3 Inventory
 * delivery, the key-space partitions of a sweep), merged in the parts' order: exactly what
 * one pass over the same objects gives (counts and bytes add up, examples as `order` says,
 * the newest SSE-C time is the latest, a listing error is the last one). Callers key the
 * parts by item, so a re-run item replaces its part, never adds to it.
 */
export function mergeAggregates(
  parts: readonly ObjectScanEvidence[],
  order: ExampleOrder = 'in-order',
): ObjectScanEvidence {
  const [first, ...rest] = parts;
  if (!first) throw new CollectError('mergeAggregates needs at least one part');
  const merged = structuredClone(first);
  for (const part of rest) {
    if (part.mode !== merged.mode || part.versions !== merged.versions)
      throw new CollectError(
        `parts of different scans: ${part.mode}/${part.versions} after ${merged.mode}/${merged.versions}`,
      );
    merged.complete = merged.complete && part.complete;
    merged.listed += part.listed;
    merged.classified += part.classified;
    merged.deleteMarkers += part.deleteMarkers;
    mergeTallies(merged.byEncryption, part.byEncryption, order);
    mergeTallies(merged.noncurrentByEncryption, part.noncurrentByEncryption, order);
    mergeTallies(merged.byKmsKey, part.byKmsKey, order);
    mergeTallies(merged.byStorageClass, part.byStorageClass, order);
    sumCounts(merged.unknownAlgorithms, part.unknownAlgorithms);
    const clientSide = merged.clientSide;
    clientSide.v1 += part.clientSide.v1;
    clientSide.v2 += part.clientSide.v2;
    clientSide.v3 += part.clientSide.v3;
    if (part.clientSide.instructionFiles !== undefined || clientSide.instructionFiles !== undefined)
      clientSide.instructionFiles =
        (clientSide.instructionFiles ?? 0) + (part.clientSide.instructionFiles ?? 0);
    mergeTally(merged.denied, part.denied, order);
    mergeTally(merged.failed, part.failed, order);
    sumCounts(merged.failed.codes, part.failed.codes);
    if (part.kmsKeyUnknown !== undefined)
      merged.kmsKeyUnknown = (merged.kmsKeyUnknown ?? 0) + part.kmsKeyUnknown;
    if (part.sseCInferred !== undefined)
      merged.sseCInferred = (merged.sseCInferred ?? 0) + part.sseCInferred;
    if (part.newestSseC && (!merged.newestSseC || part.newestSseC > merged.newestSseC))
      merged.newestSseC = part.newestSseC;
    if (part.listError) merged.listError = part.listError;
  }
  return merged;
}
