import { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepBucket } from '../../lib/collect/objects/sweep.js';
import type { ObjectObservation } from '../../lib/evidence/object-observation.js';
import {
  type FakeAws,
  type FakeResponse,
  type SeenRequest,
  s3ErrorXml,
  s3Xml,
  startFakeAws,
} from '../helpers/fake-aws-server.js';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OBJECTS: Record<string, { status: number; headers: Record<string, string> }> = {
  'kms.bin': {
    status: 200,
    headers: {
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': KEY,
      'x-amz-server-side-encryption-bucket-key-enabled': 'true',
      'x-amz-storage-class': 'STANDARD_IA',
    },
  },
  'dsse.bin': {
    status: 200,
    headers: {
      'x-amz-server-side-encryption': 'aws:kms:dsse',
      'x-amz-server-side-encryption-aws-kms-key-id': KEY,
    },
  },
  'sse-s3 with space.txt': {
    status: 200,
    headers: {
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-meta-x-amz-key-v2': 'abc',
      'x-amz-meta-x-amz-iv': 'iv',
    },
  },
  'legacy-plaintext.csv': { status: 200, headers: {} },
  'fsx-object': { status: 200, headers: { 'x-amz-server-side-encryption': 'aws:fsx' } },
  'customer-key.dat': { status: 400, headers: {} },
  'forbidden.dat': { status: 403, headers: {} },
  'deleted.dat': { status: 404, headers: { 'x-amz-delete-marker': 'true' } },
  'ünï & <co>de.txt': { status: 200, headers: { 'x-amz-server-side-encryption': 'AES256' } },
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function answer(request: SeenRequest): FakeResponse {
  const key = request.path.replace(/^\/objects-bucket\/?/, '');
  if (request.method === 'GET' && key === '' && request.query.get('list-type') === '2') {
    const contents = Object.keys(OBJECTS)
      .sort()
      .map(
        (k) =>
          `<Contents><Key>${escapeXml(k)}</Key><LastModified>2022-06-01T00:00:00.000Z</LastModified><ETag>"e"</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('');
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: s3Xml(
        'ListBucketResult',
        `<Name>objects-bucket</Name><KeyCount>${Object.keys(OBJECTS).length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}`,
      ),
    };
  }
  const object = OBJECTS[key];
  if (request.method === 'HEAD' && object) {
    return {
      status: object.status,
      headers: {
        'last-modified': 'Wed, 01 Jun 2022 00:00:00 GMT',
        'content-length': '42',
        ...object.headers,
      },
    };
  }
  return {
    status: 404,
    headers: { 'content-type': 'application/xml' },
    body: s3ErrorXml('NoSuchKey', `no ${key}`),
  };
}

describe.each(['sdk', 'direct'] as const)(
  'Object sweep over the wire with the %s HEAD transport',
  (headTransport) => {
    let server: FakeAws;
    const rows: ObjectObservation[] = [];
    let result: Awaited<ReturnType<typeof sweepBucket>>;

    beforeAll(async () => {
      server = await startFakeAws(answer);
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint: server.endpoint,
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
      });
      const limit = pLimit(4);
      result = await sweepBucket({
        s3,
        bucket: 'objects-bucket',
        owner: '111122223333',
        mode: 'full',
        versions: false,
        sampleSize: 10,
        limit: (fn) => limit(fn),
        headTransport,
        onObject: (o) => rows.push(o),
      });
      s3.destroy();
    });
    afterAll(() => server.close());

    it('classifies each HEAD answer as aws-facts.md section 1 says', () => {
      const byKey = Object.fromEntries(rows.map((r) => [r.key, r.outcome]));
      expect(byKey['kms.bin']).toEqual({
        kind: 'classified',
        type: 'SSE-KMS',
        algorithm: 'aws:kms',
        kmsKeyId: KEY,
        bucketKeyEnabled: true,
      });
      expect(byKey['dsse.bin']).toMatchObject({ type: 'DSSE-KMS' });
      expect(byKey['sse-s3 with space.txt']).toMatchObject({ type: 'SSE-S3', clientSide: 'v2' });
      expect(byKey['legacy-plaintext.csv']).toEqual({ kind: 'classified', type: 'NONE' });
      expect(byKey['fsx-object']).toMatchObject({ type: 'UNKNOWN', algorithm: 'aws:fsx' });
      expect(byKey['customer-key.dat']).toEqual({
        kind: 'classified',
        type: 'SSE-C',
        likely: true,
      });
      expect(byKey['forbidden.dat']).toMatchObject({ kind: 'denied' });
      expect(byKey['deleted.dat']).toEqual({ kind: 'delete-marker' });
      expect(byKey['ünï & <co>de.txt']).toMatchObject({ type: 'SSE-S3' });
      expect(rows.find((r) => r.key === 'kms.bin')?.storageClass).toBe('STANDARD_IA');
    });

    it('sends HEAD for keys with spaces, unicode and XML characters, with ExpectedBucketOwner', () => {
      const heads = server.requests.filter((r) => r.method === 'HEAD');
      expect(heads.map((r) => r.path.replace('/objects-bucket/', '')).sort()).toEqual(
        Object.keys(OBJECTS).sort(),
      );
      expect(heads.every((r) => r.headers['x-amz-expected-bucket-owner'] === '111122223333')).toBe(
        true,
      );
      // Each transport really was the one in use.
      const direct = heads.filter((r) => r.headers['user-agent'] === 's3scan direct-head');
      expect(direct).toHaveLength(headTransport === 'direct' ? heads.length : 0);
    });

    it('aggregates the bucket', () => {
      expect(result).toMatchObject({
        evidence: {
          complete: true,
          listed: 9,
          classified: 7,
          deleteMarkers: 1,
          denied: { count: 1 },
          unknownAlgorithms: { 'aws:fsx': 1 },
          clientSide: { v2: 1 },
          byKmsKey: { [KEY]: { count: 2 } },
        },
      });
    });
  },
);
