import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidenceError } from '../errors.js';
import { EVIDENCE_SCHEMA } from '../evidence/schema.js';
import {
  type BucketEvidenceFile,
  EVIDENCE_SCHEMA_VERSION,
  type ScanEvidence,
} from '../evidence/types.js';
import { compileSchema, formatSchemaErrors } from '../validation/json-schema.js';

const validateEvidence = compileSchema<ScanEvidence | BucketEvidenceFile>(EVIDENCE_SCHEMA);

/**
 * Validates one parsed evidence document. Refuses, with a message naming the problem, a
 * `schemaVersion` this build does not read and anything that breaks the schema.
 */
export function parseEvidenceDocument(
  document: unknown,
  source: string,
): ScanEvidence | BucketEvidenceFile {
  const version = (document as { schemaVersion?: unknown } | null)?.schemaVersion;
  const major = EVIDENCE_SCHEMA_VERSION.split('.')[0];
  if (typeof version !== 'string' || version.split('.')[0] !== major) {
    throw new EvidenceError(
      `${source}: unsupported evidence schemaVersion ${JSON.stringify(version)}; this s3scan reads ${major}.x (written ${EVIDENCE_SCHEMA_VERSION})`,
    );
  }
  if (!validateEvidence(document)) {
    const lines = formatSchemaErrors(validateEvidence.errors).slice(0, 10);
    throw new EvidenceError(`${source}: not valid s3scan evidence:\n  ${lines.join('\n  ')}`);
  }
  // The pattern admits 2026-02-30T...; Date.parse rolls that over, so check the day survives.
  const { scanTime } = document;
  const day = scanTime.slice(0, 10);
  const dayTime = Date.parse(`${day}T00:00:00Z`);
  const real =
    !Number.isNaN(Date.parse(scanTime)) &&
    !Number.isNaN(dayTime) &&
    new Date(dayTime).toISOString().slice(0, 10) === day;
  if (!real) {
    throw new EvidenceError(
      `${source}: scanTime ${JSON.stringify(scanTime)} is not a real date and time`,
    );
  }
  return document;
}

/** Merges whole-scan bundles and per-bucket files of one scan into one `ScanEvidence`. */
export function mergeEvidence(documents: (ScanEvidence | BucketEvidenceFile)[]): ScanEvidence {
  const first = documents[0];
  if (!first) throw new EvidenceError('no evidence files were found');
  const merged: ScanEvidence = {
    schemaVersion: first.schemaVersion,
    tool: first.tool,
    scanId: first.scanId,
    scanTime: first.scanTime,
    accountId: first.accountId,
    partition: first.partition,
    ...('callerArn' in first && first.callerArn ? { callerArn: first.callerArn } : {}),
    buckets: [],
    kmsKeys: {},
  };
  for (const doc of documents) {
    if (doc.scanId !== first.scanId || doc.scanTime !== first.scanTime) {
      throw new EvidenceError(
        `evidence from different scans cannot be evaluated together (${first.scanId} and ${doc.scanId})`,
      );
    }
    merged.buckets.push(...('buckets' in doc ? doc.buckets : [doc.bucket]));
    Object.assign(merged.kmsKeys, doc.kmsKeys);
    if ('accounts' in doc && doc.accounts)
      merged.accounts = [...(merged.accounts ?? []), ...doc.accounts];
    if ('directoryListings' in doc && doc.directoryListings)
      merged.directoryListings = [...(merged.directoryListings ?? []), ...doc.directoryListings];
    if ('policyLayers' in doc && doc.policyLayers)
      merged.policyLayers = [...(merged.policyLayers ?? []), ...doc.policyLayers];
  }
  return merged;
}

async function listJsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(async (entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return listJsonFiles(path);
        return entry.isFile() && entry.name.endsWith('.json') ? [path] : [];
      }),
  );
  return nested.flat();
}

/**
 * Loads evidence from a file (a bundle or one bucket) or from a folder of them, such as
 * `scans/<id>/evidence` of a report store.
 */
export async function loadEvidence(path: string): Promise<ScanEvidence> {
  let files: string[];
  try {
    files = (await stat(path)).isDirectory() ? await listJsonFiles(path) : [path];
  } catch (error) {
    throw new EvidenceError(`cannot read evidence at ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (files.length === 0) throw new EvidenceError(`no evidence (.json) files under ${path}`);
  const documents = await Promise.all(
    files.map(async (file) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new EvidenceError(`${file}: not valid JSON: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return parseEvidenceDocument(parsed, file);
    }),
  );
  return mergeEvidence(documents);
}
