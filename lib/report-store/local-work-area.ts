import { LocalBytes } from './local-bytes.js';
import { BytesWorkArea } from './work-area.js';

/**
 * A work area in a local folder: the CLI's scratch space for a scan that may be interrupted
 * and resumed (per-object CSV chunks). Every write is atomic.
 */
export class LocalWorkArea extends BytesWorkArea {
  public constructor(public readonly root: string) {
    const bytes = new LocalBytes(root);
    super(bytes, '', (path) => bytes.describe(path));
  }
}
