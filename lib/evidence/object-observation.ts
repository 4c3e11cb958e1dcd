import type { ObjectEncryptionType } from './types.js';

/** What s3scan learnt about one object (or object version). */
export interface ObjectObservation {
  key: string;
  versionId?: string;
  /** False for noncurrent versions. */
  isLatest: boolean;
  size: number;
  lastModified?: string;
  storageClass: string;
  outcome:
    | {
        kind: 'classified';
        type: ObjectEncryptionType;
        /** The raw `ServerSideEncryption` value, kept for unknown types. */
        algorithm?: string;
        kmsKeyId?: string;
        bucketKeyEnabled?: boolean;
        clientSide?: 'v1' | 'v2' | 'v3';
        /** True when the type was inferred (SSE-C from a key-less HEAD's 400). */
        likely?: boolean;
      }
    | { kind: 'denied'; code: string }
    | { kind: 'failed'; code: string; message: string }
    | { kind: 'delete-marker' };
}
