import type { ObjectObservation } from '../evidence/object-observation.js';

/** Where the per-object rows of one bucket go (the store's objects CSV). */
export interface ObjectSink {
  write: (observation: ObjectObservation) => void;
  close: () => Promise<void>;
  /** Throws away what was written (an inventory that turned out unusable). */
  discard: () => Promise<void>;
}
