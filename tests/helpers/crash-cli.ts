/**
 * The s3scan CLI with a kill -9 at one step of a local store's write or of an alert send: the
 * fault tests run this (through tsx) instead of bin/s3scan.js, naming the step in
 * S3SCAN_TEST_CRASH_AT. The faults are adapters around the store's byte port and its alert
 * ledger; the production code has no fail point of its own.
 *
 * Steps: `store:evidence-written` (the scan's evidence and object CSVs are in its temporary
 * folder), `store:scan-written` (the whole folder, before it is renamed into place),
 * `store:scan-renamed`, `store:index-locked` (index.json's lock is held), `store:index-written`;
 * `alerts:claimed-<sink>` (a batch is claimed, nothing sent), `alerts:sending-<sink>` (its
 * request is about to leave), `alerts:after-<sink>` (every batch of that sink is answered,
 * before the next sink claims anything); `fixes:saved` (a fix saved the setting it replaces,
 * nothing written in AWS yet), `fixes:written` (a fix's AWS write is done and read back, its
 * result not recorded).
 */

import { processIo } from '../../lib/cli/io.js';
import { runCli } from '../../lib/cli/main.js';
import type { ByteStore } from '../../lib/report-store/bytes.js';
import type { StoreAdapters } from '../../lib/report-store/local.js';
import { LocalBytes } from '../../lib/report-store/local-bytes.js';
import type { AlertLedgerStore, FixRecordStore } from '../../lib/report-store/types.js';

const point = process.env.S3SCAN_TEST_CRASH_AT ?? '';

function crash(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not delivered synchronously everywhere: never go on writing meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

const at = (step: string) => {
  if (point === step) crash();
};

/** The local byte store, killed at the store steps. */
function crashingBytes(root: string): ByteStore {
  const inner: ByteStore = new LocalBytes(root, () => at('store:index-locked'));
  return {
    describe: (path) => inner.describe(path),
    explain: (error) => inner.explain(error),
    get: (path) => inner.get(path),
    getVersioned: (path) => inner.getVersioned(path),
    getRange: (path, start, end) => inner.getRange(path, start, end),
    stream: (path) => inner.stream(path),
    create: (path, body) => inner.create(path, body),
    put: (path, body, contentType) => inner.put(path, body, contentType),
    list: (prefix) => inner.list(prefix),
    swap: async (path, body, version) => {
      const swapped = await inner.swap(path, body, version);
      if (swapped && path === 'index.json') at('store:index-written');
      return swapped;
    },
    createFolder: (path, scanId) => {
      const folder = inner.createFolder(path, scanId);
      return {
        put: async (relative, body, contentType) => {
          // The evidence and object CSVs come first; the findings open the rest.
          if (relative === 'findings.ndjson.gz') at('store:evidence-written');
          await folder.put(relative, body, contentType);
        },
        putStream: (relative, chunks, contentType) =>
          folder.putStream(relative, chunks, contentType),
        commit: async () => {
          at('store:scan-written');
          await folder.commit();
          at('store:scan-renamed');
        },
        abort: () => folder.abort(),
      };
    },
  };
}

/** The alert ledger, killed at the alert steps (records are named `<sink>/<batch>.<n>.<kind>`). */
function crashingLedger(inner: AlertLedgerStore): AlertLedgerStore {
  const sinkOf = (name: string) => name.split('/')[0] ?? '';
  let answered: string | undefined;
  const beforeClaim = (name: string) => {
    // A claim of another sink after this one's answers: the crash "between two sinks".
    if (answered && sinkOf(name) !== answered) at(`alerts:after-${answered}`);
  };
  return {
    describe: (scanId) => inner.describe(scanId),
    list: (scanId) => inner.list(scanId),
    read: (scanId, name) => inner.read(scanId, name),
    create: async (scanId, name, record) => {
      beforeClaim(name);
      const created = await inner.create(scanId, name, record);
      if (created && name.endsWith('.claim')) at(`alerts:claimed-${sinkOf(name)}`);
      return created;
    },
    write: async (scanId, name, record) => {
      // The scan's own records (outcome, state) come after every sink.
      if (!name.includes('/')) beforeClaim(name);
      await inner.write(scanId, name, record);
      if (name.endsWith('.sending')) at(`alerts:sending-${sinkOf(name)}`);
      if (name.endsWith('.result')) answered = sinkOf(name);
    },
  };
}

/** The fix records, killed around a fix's AWS write. */
function crashingFixes(inner: FixRecordStore): FixRecordStore {
  return {
    ids: () => inner.ids(),
    describe: (id) => inner.describe(id),
    list: (id) => inner.list(id),
    read: (id, name) => inner.read(id, name),
    create: async (id, name, record) => {
      const created = await inner.create(id, name, record);
      if (created && /^apply\/.+\.previous$/.test(name)) at('fixes:saved');
      return created;
    },
    write: async (id, name, record) => {
      if (/^apply\/.+\.result$/.test(name)) at('fixes:written');
      await inner.write(id, name, record);
    },
  };
}

const adapters: StoreAdapters = point.startsWith('store:')
  ? { bytes: crashingBytes }
  : point.startsWith('alerts:')
    ? { ledger: crashingLedger }
    : point.startsWith('fixes:')
      ? { fixes: crashingFixes }
      : {};

process.exitCode = await runCli(process.argv.slice(2), { ...processIo, storeAdapters: adapters });
