import type { S3Client } from '@aws-sdk/client-s3';
import { safeSegment } from '../evidence/paths.js';
import { reportStoreClient } from './client.js';
import { S3Bytes } from './s3-bytes.js';
import { BytesWorkArea } from './work-area.js';

/** The work area of one scan in the report bucket: `<prefix>/scans/<scanId>/work/`. */
export class S3WorkArea extends BytesWorkArea {
  public constructor(options: {
    s3: S3Client;
    bucket: string;
    scanId: string;
    prefix?: string;
    kmsKeyArn?: string;
    expectedOwner?: string;
  }) {
    const { scanId, ...location } = options;
    const bytes = new S3Bytes(location);
    super(bytes, `scans/${safeSegment(scanId)}/work/`, (path) => bytes.key(path));
  }

  /** A work area with its own S3 client. */
  public static create(options: {
    region: string;
    bucket: string;
    scanId: string;
    prefix?: string;
    kmsKeyArn?: string;
    expectedOwner?: string;
  }): S3WorkArea {
    const { region, ...rest } = options;
    return new S3WorkArea({ ...rest, s3: reportStoreClient(region) });
  }
}
