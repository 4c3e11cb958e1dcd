import { createHash } from 'node:crypto';
import { tlsPolicy } from './evidence.js';
import type { FakeAccountModel, FaultHook } from './fake-account.js';
import type { FakeResponse } from './fake-aws-server.js';
import { s3ErrorXml } from './fake-aws-server.js';

export const FAULT_ACCOUNT = '111122223333';
const key = (id: string) => `arn:aws:kms:us-east-1:${FAULT_ACCOUNT}:key/${id}`;
export const FAULT_KEYS = {
  good: key('11111111-1111-4111-8111-111111111111'),
  disabled: key('22222222-2222-4222-8222-222222222222'),
  pending: key('33333333-3333-4333-8333-333333333333'),
};

/**
 * An account whose buckets give every bucket and object rule both PASS and FAIL verdicts: the
 * baseline a faulty run is compared with.
 */
export function faultAccount(bucketCount = 12, objectsPerBucket = 40): FakeAccountModel {
  const buckets: FakeAccountModel['buckets'] = [];
  for (let i = 0; i < bucketCount; i++) {
    const name = `fault-bucket-${String(i).padStart(2, '0')}`;
    const kms = i % 3 === 0 ? FAULT_KEYS.good : i % 3 === 1 ? FAULT_KEYS.disabled : undefined;
    buckets.push({
      name,
      region: 'us-east-1',
      ...(kms ? { kmsKeyArn: kms } : {}),
      ...(i % 2 === 0 ? { policy: tlsPolicy(name) } : {}),
      ...(i % 4 === 0 ? { versioning: 'Enabled' as const } : {}),
      objects: Array.from({ length: objectsPerBucket }, (_, j) => {
        const objectKey = `p${j % 4}/object-${j}`;
        if (i % 5 === 1 && j === 7) return { key: objectKey };
        if (kms && j % 2 === 0) return { key: objectKey, sse: 'aws:kms', kmsKeyId: kms };
        if (i % 6 === 2 && j === 3)
          return { key: objectKey, sse: 'aws:kms', kmsKeyId: FAULT_KEYS.pending };
        return { key: objectKey, sse: 'AES256' };
      }),
    });
  }
  return {
    account: FAULT_ACCOUNT,
    buckets,
    keys: {
      [FAULT_KEYS.good]: { state: 'Enabled' },
      [FAULT_KEYS.disabled]: { state: 'Disabled' },
      [FAULT_KEYS.pending]: { state: 'PendingDeletion' },
    },
  };
}

/** A small seeded PRNG (mulberry32): the same faults for the same seed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the transient-fault hook did, by kind. */
export interface FaultCounts {
  requests: number;
  faults: number;
  byKind: Record<'500' | '503' | 'reset', number>;
}

/**
 * Answers `rate` of all requests with a transient fault, drawn evenly from 500
 * InternalError, 503 SlowDown and a connection reset (HEADs get body-less statuses, as S3
 * sends them); the rest go to the model. Which attempt of which request fails depends on the
 * seed, the request and its attempt number only, never on the order concurrent requests
 * arrive in, so a seed gives the same faults on every run.
 */
export function transientFaults(
  rate: number,
  seed: number,
  spared: readonly string[] = [],
): { hook: FaultHook; counts: FaultCounts } {
  const counts: FaultCounts = { requests: 0, faults: 0, byKind: { '500': 0, '503': 0, reset: 0 } };
  const attempts = new Map<string, number>();
  const hook: FaultHook = (request, operation) => {
    counts.requests += 1;
    const id = `${request.method} ${request.rawUrl} ${request.headers['x-amz-target'] ?? ''} ${request.body}`;
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const digest = createHash('sha256').update(`${seed}\u0000${attempt}\u0000${id}`).digest();
    const random = seeded(digest.readUInt32BE(0));
    if (spared.includes(operation) || random() >= rate) return undefined;
    counts.faults += 1;
    const pick = random();
    const kind = pick < 1 / 3 ? '500' : pick < 2 / 3 ? '503' : 'reset';
    counts.byKind[kind] += 1;
    if (kind === 'reset') return { status: 0, fault: 'reset' };
    const kmsOrSts = operation === 'DescribeKey' || operation === 'GetKeyRotationStatus';
    const status = kind === '500' ? 500 : 503;
    if (request.method === 'HEAD') return { status };
    if (kmsOrSts)
      return {
        status,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({
          __type: kind === '500' ? 'KMSInternalException' : 'ThrottlingException',
          message: 'try again',
        }),
      } satisfies FakeResponse;
    return {
      status,
      headers: { 'content-type': 'application/xml' },
      body:
        kind === '500'
          ? s3ErrorXml('InternalError', 'We encountered an internal error. Please try again.')
          : s3ErrorXml('SlowDown', 'Please reduce your request rate.'),
    };
  };
  return { hook, counts };
}
