import { describe, expect, it } from 'vitest';
import type { Rule } from '../../../lib/engine/types.js';
import type { ObjectScanEvidence } from '../../../lib/evidence/types.js';
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
  kmsEncryption,
  objectScan,
  tally,
} from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

/**
 * Every object rule under the one coverage rule: PASS only when every object in scope was
 * classified; a violation among the seen objects is FAIL; otherwise unseen objects are ERROR.
 */
interface Case {
  rule: Rule;
  /** Evidence of ten KMS objects under the default key that the rule passes. */
  clean: () => ObjectScanEvidence;
  /** The same bucket with one violation among the classified objects. */
  violating: () => ObjectScanEvidence;
}

const kmsObjects = (overrides: Partial<ObjectScanEvidence> = {}) =>
  objectScan({
    versions: true,
    byEncryption: { 'SSE-KMS': tally(10, 'k/1') },
    byKmsKey: { [KEY_ARN]: tally(10, 'k/1') },
    ...overrides,
  });

const OTHER_KEY = 'arn:aws:kms:us-east-1:444455556666:key/4444dddd-4444-4444-8444-444444444444';

const cases: Case[] = [
  {
    rule: unencrypted,
    clean: () => kmsObjects(),
    violating: () =>
      kmsObjects({ byEncryption: { 'SSE-KMS': tally(9, 'k/1'), NONE: tally(1, 'old.csv') } }),
  },
  {
    rule: sseC,
    clean: () => kmsObjects(),
    violating: () =>
      kmsObjects({ byEncryption: { 'SSE-KMS': tally(9, 'k/1'), 'SSE-C': tally(1, 'x') } }),
  },
  {
    rule: unusable,
    clean: () => kmsObjects(),
    violating: () =>
      kmsObjects({ byKmsKey: { [KEY_ARN]: tally(9, 'k/1'), [OTHER_KEY]: tally(1, 'k/2') } }),
  },
  {
    rule: mismatch,
    clean: () => kmsObjects(),
    violating: () =>
      kmsObjects({ byKmsKey: { [KEY_ARN]: tally(9, 'k/1'), [OTHER_KEY]: tally(1, 'k/2') } }),
  },
  {
    rule: weaker,
    clean: () => kmsObjects(),
    violating: () =>
      kmsObjects({ byEncryption: { 'SSE-KMS': tally(9, 'k/1'), 'SSE-S3': tally(1, 's3') } }),
  },
  {
    rule: versions,
    clean: () => kmsObjects(),
    violating: () => kmsObjects({ noncurrentByEncryption: { NONE: tally(1, 'v/old') } }),
  },
];

/** The bucket defaults to the pinned key, which is enabled; OTHER_KEY is pending deletion. */
function run(rule: Rule, objects: ObjectScanEvidence) {
  const bucket = bucketEvidence('b1', { ...kmsEncryption(KEY_ARN), objects });
  return runRule(rule, bucket, [
    keyEvidence(KEY_ARN),
    keyEvidence(OTHER_KEY, {
      describe: {
        ok: {
          KeyId: OTHER_KEY,
          Arn: OTHER_KEY,
          KeyManager: 'CUSTOMER',
          KeyState: 'PendingDeletion',
        },
      },
    }),
  ]);
}

const partlySeen = {
  denied: tally(2, 'secret/a', 'secret/b'),
  failed: { ...tally(1, 'slow/c'), codes: { SlowDown: 1 } },
};

describe.each(cases)('$rule.id under the coverage rule', ({ rule, clean, violating }) => {
  it('passes when every object in scope was seen', () => {
    // Act
    const outcome = run(rule, clean());

    // Assess
    expect(outcome.status).toBe('PASS');
  });

  it('is an ERROR naming how many and why when some objects were not seen', () => {
    // Prepare
    const objects = { ...clean(), ...partlySeen, listed: 13 };

    // Act
    const outcome = run(rule, objects);

    // Assess
    expect(outcome.status).toBe('ERROR');
    expect(outcome.message).toMatch(/2 HEAD requests denied \(e\.g\. secret\/a, secret\/b\)/);
    expect(outcome.message).toMatch(/1 HEAD requests failed \(SlowDown\)/);
    expect(outcome.details).toMatchObject({ unseen: { denied: 2, failed: 1 } });
  });

  it('is an ERROR when no object was seen at all', () => {
    // Prepare: every HEAD was denied.
    const objects = objectScan({
      versions: true,
      classified: 0,
      byEncryption: {},
      denied: tally(10, 'a', 'b', 'c'),
      byStorageClass: {},
    });

    // Act
    const outcome = run(rule, objects);

    // Assess
    expect(outcome.status).toBe('ERROR');
    expect(outcome.message).toMatch(/10 HEAD requests denied/);
  });

  it('fails a violation found among the seen objects even when others were not seen', () => {
    // Prepare
    const objects = { ...violating(), ...partlySeen };

    // Act
    const outcome = run(rule, objects);

    // Assess
    expect(outcome.status).toBe('FAIL');
  });

  it('is an ERROR when the scan stopped before every object was classified', () => {
    // Prepare: a checkpointed, unfinished sweep that saw nothing wrong so far.
    const objects = { ...clean(), complete: false };

    // Act
    const outcome = run(rule, objects);

    // Assess
    expect(outcome).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(/stopped before every object was classified/),
    });
  });
});

describe('Coverage rules particular to some object rules', () => {
  it.each([unencrypted, weaker, unusable, mismatch])(
    '$id counts a key-less 400 (SSE-C, likely) as unseen',
    (rule) => {
      // Prepare: one object answered HEAD with 400, which suggests SSE-C but proves nothing.
      const objects = kmsObjects({
        byEncryption: { 'SSE-KMS': tally(9, 'k/1'), 'SSE-C': tally(1, 'odd') },
        sseCInferred: 1,
      });

      // Act
      const outcome = run(rule, objects);

      // Assess
      expect(outcome).toMatchObject({
        status: 'ERROR',
        message: expect.stringMatching(/1 objects answered a key-less HEAD with 400/),
      });
    },
  );

  it('the SSE-C rule fails on inferred SSE-C and says it was inferred', () => {
    // Prepare
    const objects = kmsObjects({
      byEncryption: { 'SSE-KMS': tally(9, 'k/1'), 'SSE-C': tally(1, 'odd') },
      sseCInferred: 1,
    });

    // Act
    const outcome = run(sseC, objects);

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: expect.stringMatching(/1 SSE-C objects \(all inferred from a key-less HEAD's 400/),
    });
  });

  it.each([unusable, mismatch])(
    '$id is an ERROR when a KMS object named no key, and the others still PASS',
    (rule) => {
      // Prepare: moto-style HEAD answers for aws/s3 objects carry no SSEKMSKeyId.
      const objects = kmsObjects({ kmsKeyUnknown: 3 });

      // Act
      const keyRule = run(rule, objects);
      const plaintextRule = run(unencrypted, objects);

      // Assess
      expect(keyRule).toMatchObject({
        status: 'ERROR',
        message: expect.stringMatching(/3 KMS-encrypted objects whose HEAD named no KMS key/),
      });
      expect(plaintextRule.status).toBe('PASS');
    },
  );

  it.each([unusable, mismatch])(
    '$id is an ERROR, not a PASS, on an inventory that shows KMS objects without keys',
    (rule) => {
      // Prepare
      const objects = objectScan({
        mode: 'inventory',
        byEncryption: { 'SSE-KMS': tally(7, 'k/1') },
        byKmsKey: {},
      });

      // Act
      const outcome = run(rule, objects);

      // Assess
      expect(outcome).toMatchObject({
        status: 'ERROR',
        message: expect.stringMatching(/7 KMS-encrypted objects are known only from S3 Inventory/),
      });
    },
  );

  it('an inventory of SSE-S3 objects lets the key rules pass: no key is needed', () => {
    // Prepare
    const objects = objectScan({ mode: 'inventory' });

    // Act & Assess
    expect(run(unusable, objects).status).toBe('PASS');
  });
});

describe('What the aggregator records for the coverage rule', () => {
  it('counts 400-inferred SSE-C and KMS objects whose HEAD named no key', async () => {
    // Prepare
    const { ObjectAggregator } = await import('../../../lib/collect/objects/aggregate.js');
    const { classifyHead, classifyHeadError } = await import(
      '../../../lib/collect/objects/classify.js'
    );
    const { S3ServiceException } = await import('@aws-sdk/client-s3');
    const aggregator = new ObjectAggregator('full', false);
    const observe = (key: string, outcome: ReturnType<typeof classifyHead>) =>
      aggregator.add({ key, isLatest: true, size: 1, storageClass: 'STANDARD', outcome });
    const headError = new S3ServiceException({
      name: 'Unknown',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Unknown',
    });

    // Act
    observe('aws-managed', classifyHead({ ServerSideEncryption: 'aws:kms' }));
    observe('dsse', classifyHead({ ServerSideEncryption: 'aws:kms:dsse' }));
    observe('pinned', classifyHead({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN }));
    observe('sse-c', classifyHeadError(headError));
    const evidence = aggregator.result(true);

    // Assess
    expect(evidence).toMatchObject({ kmsKeyUnknown: 2, sseCInferred: 1, classified: 4 });
    expect(evidence.byKmsKey[KEY_ARN]?.count).toBe(1);
  });
});
