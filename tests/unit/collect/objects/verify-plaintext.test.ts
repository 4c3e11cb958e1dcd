import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyInventoryPlaintext } from '../../../../lib/collect/objects/verify-plaintext.js';
import { s3Error } from '../../../helpers/aws-errors.js';
import { objectScan } from '../../../helpers/evidence.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
});
const limit = <T>(fn: () => Promise<T>) => fn();

describe('Function: verifyInventoryPlaintext', () => {
  afterEach(() => s3Mock.reset());

  it('HEADs the plaintext examples only, keeps failed ones as plaintext and counts the rest as unverified', async () => {
    // Prepare: 150 NOT-SSE rows, of which the inventory kept 100 example keys.
    const examples = Array.from({ length: 100 }, (_, i) => `old/${i}.bin`);
    const evidence = objectScan({
      mode: 'inventory',
      byEncryption: { NONE: { count: 150, bytes: 1500, examples } },
    });
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 10, Metadata: {} });
    s3Mock
      .on(HeadObjectCommand, { Key: 'old/7.bin' })
      .resolves({ ContentLength: 10, Metadata: { 'x-amz-key': 'k', 'x-amz-iv': 'iv' } });
    s3Mock.on(HeadObjectCommand, { Key: 'old/8.bin' }).rejects(s3Error('403', 403, 'Forbidden'));

    // Act
    const verified = await verifyInventoryPlaintext({
      s3,
      bucket: 'b1',
      owner: '111122223333',
      evidence,
      limit,
    });

    // Assess
    expect(s3Mock).toHaveReceivedCommandTimes(HeadObjectCommand, 100);
    expect(verified.byEncryption.NONE).toMatchObject({ count: 149, bytes: 1490 });
    expect(verified.byEncryption.NONE?.examples).not.toContain('old/7.bin');
    expect(verified.byEncryption['CLIENT-SIDE']).toEqual({
      count: 1,
      bytes: 10,
      examples: ['old/7.bin'],
    });
    expect(verified.plaintextVerified).toEqual({
      headed: 100,
      clientSide: 1,
      failed: 1,
      unverified: 50,
    });
    // The input evidence is left as it was.
    expect(evidence.byEncryption.NONE?.count).toBe(150);
  });

  it('makes no call when the inventory found no plaintext', async () => {
    const evidence = objectScan({ mode: 'inventory' });
    expect(await verifyInventoryPlaintext({ s3, bucket: 'b1', owner: '1', evidence, limit })).toBe(
      evidence,
    );
    expect(s3Mock).not.toHaveReceivedCommand(HeadObjectCommand);
  });
});
