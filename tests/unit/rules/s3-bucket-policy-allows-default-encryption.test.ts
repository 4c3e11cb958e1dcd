import { describe, expect, it } from 'vitest';
import { rule } from '../../../lib/rules/s3-bucket-policy-allows-default-encryption.js';
import {
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  kmsEncryption,
  tlsPolicy,
} from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const OTHER_KEY = 'arn:aws:kms:us-east-1:111122223333:key/99999999-9999-4999-8999-999999999999';

const policy = (Sid: string, Condition: Record<string, Record<string, string>>) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid,
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::b1/*',
        Condition,
      },
    ],
  });

/** AWS's own SSE-KMS example: deny uploads without the header (aws-facts.md 3.4). */
const requireHeader = policy('DenyUnencryptedObjectUploads', {
  Null: { 's3:x-amz-server-side-encryption': 'true' },
});
const pinKey = (key: string) =>
  policy('DenyOtherKeys', {
    ArnNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': key },
  });

describe('Rule: s3-bucket-policy-allows-default-encryption', () => {
  it.each([
    ['no bucket policy', { absent: 'NoSuchBucketPolicy' }],
    ['a TLS-only policy', { ok: tlsPolicy('b1') }],
    [
      'a policy that denies only uploads naming another key (Null "false" beside the pin)',
      {
        ok: policy('DenyNamedOtherKeys', {
          ArnNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY_ARN },
          Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
        }),
      },
    ],
  ])('passes with %s', (_name, probe) => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { ...kmsEncryption(KEY_ARN), policy: probe }),
      [keyEvidence(KEY_ARN)],
    );

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it('fails a policy that requires the header, naming the statement and the clients that break', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { policy: { ok: requireHeader } }));

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(outcome.severity).toBeUndefined();
    expect(outcome.message).toMatch(/Sid "DenyUnencryptedObjectUploads"/);
    expect(outcome.message).toMatch(/evaluated before default encryption/);
    expect(outcome.message).toMatch(
      /PutObject without x-amz-server-side-encryption.*CopyObject.*multipart/,
    );
  });

  it('fails at medium severity when the pinned key is not the default key', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { ...kmsEncryption(KEY_ARN), policy: { ok: pinKey(OTHER_KEY) } }),
      [keyEvidence(KEY_ARN)],
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      severity: 'medium',
      message: expect.stringMatching(
        new RegExp(
          `pins ${OTHER_KEY}, not the default key ${KEY_ARN}: every upload that relies on the default`,
        ),
      ),
      details: { pinnedKmsKeyArns: [OTHER_KEY], defaultKey: KEY_ARN },
    });
  });

  it('fails at medium severity when a key is pinned but the default is SSE-S3', () => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', { policy: { ok: pinKey(KEY_ARN) } }));

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      severity: 'medium',
      message: expect.stringMatching(/defaults to SSE-S3: no upload can rely on the default/),
    });
  });

  it('fails at its own low severity when the pinned key is the default key', () => {
    // Act
    const outcome = runRule(
      rule,
      bucketEvidence('b1', { ...kmsEncryption(KEY_ARN), policy: { ok: pinKey(KEY_ARN) } }),
      [keyEvidence(KEY_ARN)],
    );

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(outcome.severity).toBeUndefined();
    expect(outcome.message).toMatch(/is the default key, so writers only need to name it/);
  });

  it.each([
    ['GetBucketPolicy was denied', { policy: { denied: 'AccessDenied' } }],
    ['the stored policy is not JSON', { policy: { ok: '{"Statement": [' } }],
    [
      'a key is pinned and the default encryption could not be read',
      { policy: { ok: pinKey(KEY_ARN) }, encryption: { error: 'InternalError', message: 'boom' } },
    ],
  ])('is an ERROR when %s', (_name, overrides) => {
    // Act
    const outcome = runRule(rule, bucketEvidence('b1', overrides as never));

    // Assess
    expect(outcome.status).toBe('ERROR');
  });
});
