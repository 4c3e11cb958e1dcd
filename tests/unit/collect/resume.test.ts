import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../../lib/collect/clients.js';
import { collectEvidence, resumeCollection } from '../../../lib/collect/scan.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { mockAccount } from '../../helpers/mocked-account.js';

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const clients = () =>
  new AwsClients(
    { maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } },
    'us-east-1',
  );
let heads = 0;
let abortAt = Number.POSITIVE_INFINITY;
let controller = new AbortController();

describe('Scan checkpoint and resume', () => {
  beforeEach(() => {
    mockAccount(
      { s3, sts },
      { session: 'cli', buckets: ['alpha', 'beta', 'gamma'].map((name) => ({ name })) },
    );
    s3.on(ListObjectsV2Command).callsFake(
      (input: { Bucket: string; ContinuationToken?: string }) => {
        const start = Number(input.ContinuationToken ?? 0);
        const keys = Array.from(
          { length: 1500 },
          (_, i) => `${input.Bucket}/${String(i).padStart(5, '0')}`,
        ).slice(start, start + 1000);
        const next = start + keys.length;
        return {
          Contents: keys.map((Key) => ({ Key, Size: 10 })),
          IsTruncated: next < 1500,
          ...(next < 1500 ? { NextContinuationToken: String(next) } : {}),
        };
      },
    );
    s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      heads += 1;
      if (heads === abortAt) controller.abort(new Error('Lambda timeout approaching'));
      return Number(input.Key.slice(-5)) % 5 === 0
        ? { Metadata: {} }
        : { ServerSideEncryption: 'AES256' };
    });
  });
  afterEach(() => {
    s3.reset();
    sts.reset();
  });

  it.each([1, 700, 1501, 3100, 4400])(
    'a scan aborted after %i HEADs and resumed equals an uninterrupted one',
    async (abortAfter) => {
      // Prepare
      const options = {
        concurrency: 8,
        scanId: 's',
        scanTime: new Date('2026-11-01T06:00:00Z'),
        toolVersion: 't',
        objects: { mode: 'full' as const, versions: false, sampleSize: 10, bucketConcurrency: 2 },
      };
      heads = 0;
      abortAt = Number.POSITIVE_INFINITY;
      const reference = await collectEvidence({ ...options, clients: clients() });

      // Act
      heads = 0;
      abortAt = abortAfter;
      controller = new AbortController();
      const interrupted = await collectEvidence({
        ...options,
        clients: clients(),
        signal: controller.signal,
      });
      abortAt = Number.POSITIVE_INFINITY;
      expect(interrupted.checkpoint).toBeDefined();
      const checkpoint = JSON.parse(JSON.stringify(interrupted.checkpoint));
      const resumed = await resumeCollection(checkpoint, { clients: clients(), concurrency: 8 });

      // Assess
      expect(resumed.checkpoint).toBeUndefined();
      expect(JSON.stringify(evaluateScan(resumed.evidence).findings)).toBe(
        JSON.stringify(evaluateScan(reference.evidence).findings),
      );
      expect(resumed.evidence).toEqual(reference.evidence);
    },
  );
});
