import type { ObjectObservation } from '../evidence/object-observation.js';

/** Where the per-object rows of one bucket go (the store's objects CSV). */
export interface ObjectSink {
  write: (observation: ObjectObservation) => void;
  /**
   * Resolves once the rows written so far are on their way to disk (the CSV and gzip streams
   * have room again): the sweep waits for it after each page, so rows never pile up in memory
   * faster than they are compressed and written.
   */
  ready: () => Promise<void>;
  close: () => Promise<void>;
  /** Throws away what was written (an inventory that turned out unusable). */
  discard: () => Promise<void>;
}
