import { ReportStoreError } from '../errors.js';
import { safeSegment } from '../evidence/paths.js';
import type { ByteStore } from './bytes.js';
import { LocalBytes, withoutContent } from './local-bytes.js';
import type { FixRecordStore } from './types.js';

/** Record names are made by the dispatcher: sink and batch ids, dots and slashes only. */
const RECORD_NAME = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

function checkName(name: string, root: string): string {
  if (!RECORD_NAME.test(name) || name.includes('..'))
    throw new ReportStoreError(
      `invalid ${root === 'alerts' ? 'alert ledger' : 'fix'} record name ${JSON.stringify(name)}`,
    );
  return name;
}

/**
 * Records of a report store kept per id, `<root>/<id>/<name>.json` over its byte store: the
 * alert ledger (`alerts/<scanId>/`) and the fix records (`fixes/<fixId>/`). `create` is the
 * byte store's conditional create (a hard link locally, `If-None-Match: *` in S3), so exactly
 * one of two racing runs wins a claim; `write` replaces a record whole.
 */
export class StoreAlertLedger implements FixRecordStore {
  public constructor(
    private readonly bytes: ByteStore,
    private readonly root: 'alerts' | 'fixes' = 'alerts',
  ) {}

  private dir(scanId: string): string {
    return `${this.root}/${safeSegment(scanId)}`;
  }

  private path(scanId: string, name: string): string {
    return `${this.dir(scanId)}/${checkName(name, this.root)}.json`;
  }

  public describe(scanId: string): string {
    return this.bytes.describe(this.dir(scanId));
  }

  /** The ids that hold records (`<root>/<id>/…`), sorted. */
  public async ids(): Promise<string[]> {
    const prefix = `${this.root}/`;
    const ids = new Set<string>();
    for (const path of await this.bytes.list(prefix)) {
      const id = path.slice(prefix.length).split('/')[0];
      if (id && path.endsWith('.json')) ids.add(id);
    }
    return [...ids].sort();
  }

  public async list(scanId: string): Promise<string[]> {
    const folder = `${this.dir(scanId)}/`;
    return (await this.bytes.list(folder))
      .filter((path) => path.endsWith('.json'))
      .map((path) => path.slice(folder.length, -5));
  }

  public async read(scanId: string, name: string): Promise<unknown | undefined> {
    const path = this.path(scanId, name);
    const bytes = await this.bytes.get(path);
    if (!bytes) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch (error) {
      throw new ReportStoreError(
        `${this.bytes.describe(path)} is corrupt: ${withoutContent(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  public create(scanId: string, name: string, record: unknown): Promise<boolean> {
    return this.bytes.create(this.path(scanId, name), `${JSON.stringify(record)}\n`);
  }

  public async write(scanId: string, name: string, record: unknown): Promise<void> {
    const path = this.path(scanId, name);
    try {
      await this.bytes.put(path, `${JSON.stringify(record)}\n`, 'application/json');
    } catch (error) {
      throw new ReportStoreError(
        `cannot write ${this.bytes.describe(path)}: ${this.bytes.explain(error)}`,
        { cause: error },
      );
    }
  }
}

/** The ledger of a local store at `root`. */
export class LocalAlertLedger extends StoreAlertLedger {
  public constructor(root: string) {
    super(new LocalBytes(root));
  }
}
