import { describe, expect, it } from 'vitest';
import { rule as versions } from '../../../lib/rules/s3-object-versions-unencrypted.js';
import { rule as mismatch } from '../../../lib/rules/s3-objects-kms-key-mismatch.js';
import { rule as unusable } from '../../../lib/rules/s3-objects-kms-key-unusable.js';
import { rule as sseC } from '../../../lib/rules/s3-objects-sse-c.js';
import { rule as unencrypted } from '../../../lib/rules/s3-objects-unencrypted.js';
import { rule as weaker } from '../../../lib/rules/s3-objects-weaker-than-default.js';
import {
  bucketEvidence,
  KEY_ARN,
  keyEvidence,
  keyMetadata,
  kmsEncryption,
  objectScan,
  tally,
} from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const OTHER_KEY = 'arn:aws:kms:us-east-1:444455556666:key/4444dddd-4444-4444-8444-444444444444';
const denied = { denied: tally(2, 'secret/a', 'secret/b') };

describe('Object rules', () => {
  it.each([unencrypted, sseC, unusable, mismatch, weaker, versions])(
    '$id is SKIPPED when objects were not scanned',
    (rule) => {
      expect(runRule(rule, bucketEvidence('b1', kmsEncryption(KEY_ARN))).status).toBe('SKIPPED');
    },
  );

  it.each([unencrypted, sseC, unusable, versions])(
    '$id is an ERROR when the listing failed before any object',
    (rule) => {
      // Prepare
      const objects = objectScan({
        versions: true,
        classified: 0,
        listed: 0,
        byEncryption: {},
        complete: false,
        listError: { code: 'AccessDenied', message: 'Access Denied' },
      });

      // Act & Assess
      expect(runRule(rule, bucketEvidence('b1', { objects })).status).toBe('ERROR');
    },
  );

  describe('s3-objects-unencrypted', () => {
    it('passes when every object is encrypted', () => {
      expect(runRule(unencrypted, bucketEvidence('b1', { objects: objectScan() })).status).toBe(
        'PASS',
      );
    });
    it('passes client-side encrypted objects that have no server-side layer', () => {
      // Prepare: pre-2023 uploads through the S3 Encryption Client to a bucket without a default.
      const objects = objectScan({ byEncryption: { 'CLIENT-SIDE': tally(4, 'vault/a.bin') } });

      // Act
      const outcome = runRule(unencrypted, bucketEvidence('b1', { objects }));

      // Assess
      expect(outcome.status).toBe('PASS');
    });
    it('fails plaintext objects but says when instruction files may explain some', () => {
      // Prepare
      const objects = objectScan({ byEncryption: { NONE: tally(2, 'vault/a.bin') } });
      objects.clientSide.instructionFiles = 2;

      // Act
      const outcome = runRule(unencrypted, bucketEvidence('b1', { objects }));

      // Assess
      expect(outcome.status).toBe('FAIL');
      expect(outcome.message).toMatch(/2 S3 Encryption Client instruction files/);
    });
    it('fails on plaintext objects with count and examples', () => {
      const outcome = runRule(
        unencrypted,
        bucketEvidence('b1', {
          objects: objectScan({ byEncryption: { NONE: tally(3, 'old/1.csv', 'old/2.csv') } }),
        }),
      );
      expect(outcome).toMatchObject({
        status: 'FAIL',
        message: expect.stringMatching(/3 unencrypted objects .*old\/1\.csv/),
      });
    });
    it('is an ERROR when some HEADs were denied and nothing failed', () => {
      expect(
        runRule(unencrypted, bucketEvidence('b1', { objects: objectScan(denied) })).status,
      ).toBe('ERROR');
    });
  });

  describe('s3-objects-sse-c', () => {
    it('passes without SSE-C objects', () => {
      expect(runRule(sseC, bucketEvidence('b1', { objects: objectScan() })).status).toBe('PASS');
    });
    it('is critical when SSE-C objects were written in the last 30 days (ransomware indicator)', () => {
      const objects = objectScan({
        byEncryption: { 'SSE-C': tally(40, 'x') },
        newestSseC: '2026-10-30T02:00:00.000Z',
      });
      expect(runRule(sseC, bucketEvidence('b1', { objects }))).toMatchObject({
        status: 'FAIL',
        severity: 'critical',
        message: expect.stringMatching(/ransomware/),
      });
    });
    it('fails with the default severity for old SSE-C objects, noncurrent ones included', () => {
      const objects = objectScan({
        noncurrentByEncryption: { 'SSE-C': tally(1, 'y') },
        newestSseC: '2023-01-01T00:00:00.000Z',
      });
      const outcome = runRule(sseC, bucketEvidence('b1', { objects }));
      expect(outcome.status).toBe('FAIL');
      expect(outcome.severity).toBeUndefined();
    });
    it('is an ERROR when objects could not be classified', () => {
      expect(runRule(sseC, bucketEvidence('b1', { objects: objectScan(denied) })).status).toBe(
        'ERROR',
      );
    });
  });

  describe('s3-objects-kms-key-unusable', () => {
    const objects = objectScan({
      byEncryption: { 'SSE-KMS': tally(5, 'k') },
      byKmsKey: { [KEY_ARN]: tally(5, 'k') },
    });
    it('passes when the object keys are enabled', () => {
      expect(
        runRule(unusable, bucketEvidence('b1', { objects }), [keyEvidence(KEY_ARN)]).status,
      ).toBe('PASS');
    });
    it.each([
      [
        'pending deletion',
        { describe: { ok: keyMetadata(KEY_ARN, { KeyState: 'PendingDeletion' }) } },
      ],
      ['missing', { describe: { absent: 'NotFoundException' } }],
    ])('fails when the key is %s', (_state, facts) => {
      expect(
        runRule(unusable, bucketEvidence('b1', { objects }), [keyEvidence(KEY_ARN, facts as never)])
          .status,
      ).toBe('FAIL');
    });
    it('is an ERROR when DescribeKey was denied', () => {
      expect(
        runRule(unusable, bucketEvidence('b1', { objects }), [
          keyEvidence(KEY_ARN, { describe: { denied: 'AccessDeniedException' } }),
        ]).status,
      ).toBe('ERROR');
    });
  });

  describe('s3-objects-kms-key-mismatch', () => {
    it('passes when objects use the default key', () => {
      const bucket = bucketEvidence('b1', {
        ...kmsEncryption(KEY_ARN),
        objects: objectScan({ byKmsKey: { [KEY_ARN]: tally(3) } }),
      });
      expect(runRule(mismatch, bucket, [keyEvidence(KEY_ARN)]).status).toBe('PASS');
    });
    it('fails when objects use another key', () => {
      const bucket = bucketEvidence('b1', {
        ...kmsEncryption(KEY_ARN),
        objects: objectScan({ byKmsKey: { [KEY_ARN]: tally(3), [OTHER_KEY]: tally(2) } }),
      });
      expect(
        runRule(mismatch, bucket, [keyEvidence(KEY_ARN), keyEvidence(OTHER_KEY)]),
      ).toMatchObject({ status: 'FAIL', details: { others: [{ keyArn: OTHER_KEY, objects: 2 }] } });
    });
    it('compares with KeyManager when the default is aws/s3, without describing aws/s3', () => {
      const bucket = bucketEvidence('b1', {
        ...kmsEncryption(undefined),
        objects: objectScan({ byKmsKey: { [OTHER_KEY]: tally(2) } }),
      });
      expect(runRule(mismatch, bucket, [keyEvidence(OTHER_KEY)]).status).toBe('FAIL');
      expect(
        runRule(mismatch, bucket, [
          keyEvidence(OTHER_KEY, {
            describe: { ok: keyMetadata(OTHER_KEY, { KeyManager: 'AWS' }) },
          }),
        ]).status,
      ).toBe('PASS');
      expect(
        runRule(mismatch, bucket, [
          keyEvidence(OTHER_KEY, { describe: { denied: 'AccessDeniedException' } }),
        ]).status,
      ).toBe('ERROR');
    });
  });

  describe('s3-objects-weaker-than-default', () => {
    it('fails SSE-S3 objects in a KMS bucket', () => {
      const bucket = bucketEvidence('b1', { ...kmsEncryption(KEY_ARN), objects: objectScan() });
      expect(runRule(weaker, bucket)).toMatchObject({
        status: 'FAIL',
        message: expect.stringMatching(/defaults to SSE-KMS .*SSE-S3: 10/),
      });
    });
    it('fails SSE-KMS objects in a DSSE-KMS bucket', () => {
      const bucket = bucketEvidence('b1', {
        ...kmsEncryption(KEY_ARN, { algorithm: 'aws:kms:dsse' }),
        objects: objectScan({ byEncryption: { 'SSE-KMS': tally(1) } }),
      });
      expect(runRule(weaker, bucket).status).toBe('FAIL');
    });
    it('passes SSE-S3 objects in an SSE-S3 bucket', () => {
      expect(runRule(weaker, bucketEvidence('b1', { objects: objectScan() })).status).toBe('PASS');
    });
    it('is an ERROR when the default encryption could not be read', () => {
      expect(
        runRule(
          weaker,
          bucketEvidence('b1', { encryption: { denied: 'AccessDenied' }, objects: objectScan() }),
        ).status,
      ).toBe('ERROR');
    });
  });

  describe('s3-object-versions-unencrypted', () => {
    it('is SKIPPED without --versions', () => {
      expect(runRule(versions, bucketEvidence('b1', { objects: objectScan() }))).toMatchObject({
        status: 'SKIPPED',
        message: expect.stringMatching(/--versions/),
      });
    });
    it('fails on old plaintext versions kept behind a re-encrypted current one', () => {
      const objects = objectScan({
        versions: true,
        noncurrentByEncryption: { NONE: tally(4, 'report.pdf') },
      });
      expect(runRule(versions, bucketEvidence('b1', { objects })).status).toBe('FAIL');
    });
    it('passes when no noncurrent version is weak', () => {
      expect(
        runRule(versions, bucketEvidence('b1', { objects: objectScan({ versions: true }) })).status,
      ).toBe('PASS');
    });
    it('is an ERROR when versions could not be classified', () => {
      expect(
        runRule(
          versions,
          bucketEvidence('b1', { objects: objectScan({ versions: true, ...denied }) }),
        ).status,
      ).toBe('ERROR');
    });
  });
});
