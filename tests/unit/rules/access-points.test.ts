import { describe, expect, it } from 'vitest';
import {
  accessPointPolicyView,
  DEFAULT_EVALUATION_CONFIG,
  type EvaluationConfig,
  evaluate,
} from '../../../lib/engine/evaluate.js';
import type { AccessPointEvidence, BucketEvidence } from '../../../lib/evidence/types.js';
import { ACCESS_POINT_RULES, BUCKET_RULES } from '../../../lib/rules/index.js';
import { rule as tlsEnforced } from '../../../lib/rules/s3-bucket-tls-enforced.js';
import { ACCOUNT, bucketEvidence, scanEvidence } from '../../helpers/evidence.js';
import { runRule } from '../../helpers/rules.js';

const AP_ARN = `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/analytics`;

/** AWS's "delegate access control to access points" Deny form: nothing but access points. */
const ONLY_THROUGH_ACCESS_POINTS = (bucket: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyThroughAccessPoints',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { StringNotEquals: { 's3:DataAccessPointAccount': ACCOUNT } },
      },
    ],
  });

/** The access point's own Deny of SSE-C uploads, on its own ARNs. */
const AP_DENY_SSE_C = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DenySseCThroughHere',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `${AP_ARN}/object/*`,
      Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
    },
  ],
});

const accessPoint = (policy: AccessPointEvidence['policy']): AccessPointEvidence => ({
  name: 'analytics',
  arn: AP_ARN,
  alias: 'analytics-a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7-s3alias',
  networkOrigin: 'Internet',
  policy,
});

function judgeAccessPoints(
  bucket: BucketEvidence,
  config: EvaluationConfig = DEFAULT_EVALUATION_CONFIG,
) {
  return evaluate(
    scanEvidence([bucket]),
    config,
    BUCKET_RULES,
    [],
    [],
    ACCESS_POINT_RULES,
  ).findings.filter((f) => f.resource.type === 'AWS::S3::AccessPoint');
}

describe('Access points', () => {
  it('PASSes TLS for a bucket that denies every request not made through an access point, and says why', () => {
    // Act
    const outcome = runRule(
      tlsEnforced,
      bucketEvidence('b1', { policy: { ok: ONLY_THROUGH_ACCESS_POINTS('b1') } }),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message:
        'Bucket b1 denies every request not made through an access point: denied by the bucket policy statement #0 (Sid "OnlyThroughAccessPoints"), and access points accept HTTPS only: plain HTTP cannot reach it (TLS-only by construction).',
      details: { tlsBy: 'access-points-only' },
    });
  });

  it('keeps the FAIL of the delegation Allow alone: an Allow never denies plain HTTP', () => {
    // Prepare
    const delegation = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: '*',
          Resource: ['arn:aws:s3:::b1', 'arn:aws:s3:::b1/*'],
          Condition: { StringEquals: { 's3:DataAccessPointAccount': ACCOUNT } },
        },
      ],
    });

    // Act
    const outcome = runRule(tlsEnforced, bucketEvidence('b1', { policy: { ok: delegation } }));

    // Assess
    expect(outcome.status).toBe('FAIL');
  });

  it('FAILs an access point through which SSE-C uploads still get in, as a finding about the access point', () => {
    // Act
    const [finding] = judgeAccessPoints(
      bucketEvidence('b1', {
        policy: { ok: ONLY_THROUGH_ACCESS_POINTS('b1') },
        accessPoints: { ok: [accessPoint({ absent: 'NoSuchAccessPointPolicy' })] },
      }),
    );

    // Assess
    expect(finding).toMatchObject({
      ruleId: 's3-access-point-encryption-enforced',
      status: 'FAIL',
      resource: { arn: AP_ARN, type: 'AWS::S3::AccessPoint', name: 'b1', account: ACCOUNT },
      message: `Bucket b1 admits requests only through access points, but SSE-C uploads still get through ${AP_ARN}.`,
    });
  });

  it('PASSes an access point whose own policy denies SSE-C on its ARNs, naming that policy', () => {
    // Act
    const [finding] = judgeAccessPoints(
      bucketEvidence('b1', {
        policy: { ok: ONLY_THROUGH_ACCESS_POINTS('b1') },
        accessPoints: { ok: [accessPoint({ ok: AP_DENY_SSE_C })] },
      }),
    );

    // Assess
    expect(finding).toMatchObject({
      status: 'PASS',
      message: `Uploads through ${AP_ARN} meet the encryption rules of bucket b1: SSE-C is denied (denied by the policy of access point 'analytics' (Sid "DenySseCThroughHere")).`,
    });
  });

  it('under require-header, FAILs an access point through which header-less uploads get in', () => {
    // Act
    const [finding] = judgeAccessPoints(
      bucketEvidence('b1', {
        policy: { ok: ONLY_THROUGH_ACCESS_POINTS('b1') },
        accessPoints: { ok: [accessPoint({ ok: AP_DENY_SSE_C })] },
      }),
      {
        ...DEFAULT_EVALUATION_CONFIG,
        settings: { ...DEFAULT_EVALUATION_CONFIG.settings, uploadEncryption: 'require-header' },
      },
    );

    // Assess
    expect(finding?.status).toBe('FAIL');
    expect(finding?.message).toContain('uploads without an encryption header still get through');
  });

  it('SKIPs access points of a bucket that also admits direct requests, and is ERROR when the access point policy could not be read', () => {
    // Act
    const [skipped] = judgeAccessPoints(
      bucketEvidence('b1', { accessPoints: { ok: [accessPoint({ ok: AP_DENY_SSE_C })] } }),
    );
    const [unread] = judgeAccessPoints(
      bucketEvidence('b1', {
        policy: { ok: ONLY_THROUGH_ACCESS_POINTS('b1') },
        accessPoints: {
          ok: [accessPoint({ denied: 'AccessDenied', message: 'Access Denied' })],
        },
      }),
    );

    // Assess
    expect(skipped?.status).toBe('SKIPPED');
    expect(unread).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(
        /access point policy of analytics: access denied \(AccessDenied/,
      ),
    });
  });

  it('is one ERROR, about the bucket, when its access points could not be listed', () => {
    // Act
    const findings = evaluate(
      scanEvidence([
        bucketEvidence('b1', {
          accessPoints: { denied: 'AccessDenied', message: 'Access Denied' },
        }),
      ]),
      DEFAULT_EVALUATION_CONFIG,
      [],
      [],
      [],
      ACCESS_POINT_RULES,
    ).findings;

    // Assess
    expect(findings).toEqual([
      expect.objectContaining({
        ruleId: 's3-access-point-encryption-enforced',
        status: 'ERROR',
        resource: expect.objectContaining({
          arn: 'arn:aws:s3:::b1',
          type: 'AWS::S3::Bucket',
          name: 'b1',
        }),
        message:
          'Could not list the access points of bucket b1: access denied (AccessDenied: Access Denied).',
      }),
    ]);
  });

  it('is ERROR when the bucket policy of an access point path could not be read, and when a rule throws', () => {
    // Prepare
    const bucket = bucketEvidence('b1', {
      policy: { error: 'InternalError', message: 'We encountered an internal error.' },
      accessPoints: { ok: [accessPoint({ ok: AP_DENY_SSE_C })] },
    });
    const throwing = {
      ...ACCESS_POINT_RULES[0]!,
      evaluate: () => {
        throw new Error('boom');
      },
    };

    // Act
    const view = accessPointPolicyView(bucket, accessPoint({ ok: AP_DENY_SSE_C }), undefined);
    const [thrown] = evaluate(
      scanEvidence([bucket]),
      DEFAULT_EVALUATION_CONFIG,
      [],
      [],
      [],
      [throwing],
    ).findings;

    // Assess
    expect(view).toMatchObject({
      failed: 'bucket policy: read failed (InternalError: We encountered an internal error.)',
    });
    expect(thrown).toMatchObject({
      status: 'ERROR',
      message: `Rule s3-access-point-encryption-enforced failed on access point ${AP_ARN}: boom.`,
    });
  });

  it('is ERROR when the bucket policy or its default encryption could not be read', () => {
    // Act
    const [policyUnread] = judgeAccessPoints(
      bucketEvidence('b1', {
        policy: { denied: 'AccessDenied', message: 'Access Denied' },
        accessPoints: { ok: [accessPoint({ ok: AP_DENY_SSE_C })] },
      }),
    );
    const [encryptionUnread] = judgeAccessPoints(
      bucketEvidence('b1', {
        policy: { ok: ONLY_THROUGH_ACCESS_POINTS('b1') },
        encryption: { error: 'SlowDown', message: 'Please reduce your request rate.' },
        accessPoints: { ok: [accessPoint({ ok: AP_DENY_SSE_C })] },
      }),
    );

    // Assess
    expect(policyUnread).toMatchObject({
      status: 'ERROR',
      message: expect.stringMatching(
        /^Could not judge access point analytics of bucket b1: access denied/,
      ),
    });
    expect(encryptionUnread).toMatchObject({
      status: 'ERROR',
      message:
        'Could not judge access point analytics of bucket b1: GetBucketEncryption: read failed (SlowDown: Please reduce your request rate.).',
    });
  });

  it('judges a Multi-Region Access Point path the same way, its policy on its own ARNs', () => {
    // Prepare
    const mrap = `arn:aws:s3::${ACCOUNT}:accesspoint/mfzwi23gnjvgw.mrap`;
    const policy = AP_DENY_SSE_C.replace(AP_ARN, mrap);

    // Act
    const [finding] = judgeAccessPoints(
      bucketEvidence('b1', {
        policy: { ok: ONLY_THROUGH_ACCESS_POINTS('b1') },
        accessPoints: {
          ok: [{ name: 'global', arn: mrap, multiRegion: true, policy: { ok: policy } }],
        },
      }),
    );

    // Assess
    expect(finding).toMatchObject({
      status: 'PASS',
      resource: { arn: mrap, type: 'AWS::S3::AccessPoint' },
      message: expect.stringContaining(
        `denied by the policy of Multi-Region Access Point 'global' (Sid "DenySseCThroughHere")`,
      ),
    });
  });
});
