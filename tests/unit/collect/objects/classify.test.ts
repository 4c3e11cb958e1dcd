import { NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  classifyHead,
  classifyHeadError,
  clientSideFormat,
} from '../../../../lib/collect/objects/classify.js';
import { meta } from '../../../helpers/aws-errors.js';

const KEY = 'arn:aws:kms:us-east-2:111122223333:key/mrk-f424d5d9d32f42db945378266270a6b3';

describe('Function: classifyHead', () => {
  it.each([
    [
      'SSE-S3',
      { ServerSideEncryption: 'AES256', Metadata: {} },
      { type: 'SSE-S3', algorithm: 'AES256' },
    ],
    [
      'SSE-KMS with a multi-Region key and the Bucket Key',
      { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY, BucketKeyEnabled: true },
      { type: 'SSE-KMS', kmsKeyId: KEY, bucketKeyEnabled: true },
    ],
    [
      'DSSE-KMS',
      { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: KEY },
      { type: 'DSSE-KMS', kmsKeyId: KEY },
    ],
    [
      'a legacy unencrypted object (no ServerSideEncryption at all)',
      { Metadata: {} },
      { type: 'NONE' },
    ],
    [
      'SSE-C when HEAD carried the key',
      { SSECustomerAlgorithm: 'AES256', SSECustomerKeyMD5: 'KYvwGXoFFJ42a2u2GDWhwQ==' },
      { type: 'SSE-C' },
    ],
    [
      'aws:fsx as encrypted, unknown type',
      { ServerSideEncryption: 'aws:fsx' },
      { type: 'UNKNOWN', algorithm: 'aws:fsx' },
    ],
    [
      'aws:backup as encrypted, unknown type',
      { ServerSideEncryption: 'aws:backup' },
      { type: 'UNKNOWN', algorithm: 'aws:backup' },
    ],
    [
      'a value from the future',
      { ServerSideEncryption: 'aws:kms:pq' },
      { type: 'UNKNOWN', algorithm: 'aws:kms:pq' },
    ],
  ])('classifies %s', (_name, output, expected) => {
    expect(classifyHead(output as never)).toMatchObject({ kind: 'classified', ...expected });
  });

  it.each([
    ['v1', { 'x-amz-key': 'k', 'x-amz-iv': 'iv', 'x-amz-matdesc': '{}' }],
    [
      'v2',
      {
        'x-amz-key-v2': 'k',
        'x-amz-iv': 'iv',
        'x-amz-wrap-alg': 'kms+context',
        'x-amz-cek-alg': 'AES/GCM/NoPadding',
        'x-amz-matdesc': '{}',
      },
    ],
    ['v3', { 'x-amz-c': '115', 'x-amz-3': 'k', 'x-amz-w': '12', 'x-amz-d': 'c', 'x-amz-i': 'id' }],
  ])('records S3 Encryption Client %s markers on an SSE-S3 object', (format, Metadata) => {
    expect(classifyHead({ ServerSideEncryption: 'AES256', Metadata })).toMatchObject({
      type: 'SSE-S3',
      clientSide: format,
    });
    expect(clientSideFormat(Metadata)).toBe(format);
  });

  it('classifies an object with S3 Encryption Client markers and no SSE as CLIENT-SIDE', () => {
    // Prepare: a V2 upload from before 2023 to a bucket without default encryption.
    const Metadata = { 'x-amz-key-v2': 'k', 'x-amz-iv': 'iv', 'x-amz-wrap-alg': 'kms+context' };

    // Act
    const outcome = classifyHead({ Metadata, LastModified: new Date('2021-03-01T00:00:00Z') });

    // Assess
    expect(outcome).toEqual({ kind: 'classified', type: 'CLIENT-SIDE', clientSide: 'v2' });
  });

  it('recognises a V3 object whose key material went to an instruction file', () => {
    // Prepare: V3 clients always leave x-amz-c, x-amz-d and x-amz-i on the object.
    const Metadata = { 'x-amz-c': '115', 'x-amz-d': 'commitment', 'x-amz-i': 'message-id' };

    // Act & Assess
    expect(clientSideFormat(Metadata)).toBe('v3');
    expect(clientSideFormat({ 'x-amz-d': 'commitment' })).toBeUndefined();
  });

  it('finds no client-side marker in ordinary metadata', () => {
    expect(clientSideFormat({ 'content-owner': 'team-a', 'x-amz-iv-not': 'x' })).toBeUndefined();
  });
});

describe('Function: classifyHeadError (by HTTP status, never by name)', () => {
  it.each([
    ['schema-serde name "Unknown"', 'Unknown'],
    ['older codegen name "400"', '400'],
  ])('takes a key-less 400 with %s for SSE-C (likely)', (_what, name) => {
    const error = new S3ServiceException({
      name,
      $fault: 'client',
      $metadata: meta(400),
      message: 'Unknown',
    });
    expect(classifyHeadError(error)).toEqual({ kind: 'classified', type: 'SSE-C', likely: true });
  });

  it('takes a 403 for denied', () => {
    const error = new S3ServiceException({
      name: '403',
      $fault: 'client',
      $metadata: meta(403),
      message: 'Forbidden',
    });
    expect(classifyHeadError(error)).toEqual({ kind: 'denied', code: 'HTTP403' });
  });

  it.each([
    [
      '404 NotFound (current version is a delete marker)',
      new NotFound({ $metadata: meta(404), message: 'NotFound' }),
    ],
    [
      '405 (the version is a delete marker)',
      new S3ServiceException({
        name: 'Unknown',
        $fault: 'client',
        $metadata: meta(405),
        message: 'Method Not Allowed',
      }),
    ],
  ])('skips %s', (_what, error) => {
    expect(classifyHeadError(error)).toEqual({ kind: 'delete-marker' });
  });

  it('records other failures with their code', () => {
    const error = new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: meta(503),
      message: 'Please reduce your request rate.',
    });
    expect(classifyHeadError(error)).toMatchObject({ kind: 'failed', code: 'SlowDown' });
  });
});
