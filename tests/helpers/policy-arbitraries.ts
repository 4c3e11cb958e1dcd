// Generated bucket policies and requests, and iam-simulate's decision on them: what the
// differential tests compare s3scan's analyzer and fixes with. iam-simulate is AGPL: a dev
// dependency used by tests only (tests/contract/dependencies.test.ts keeps it out of lib/).
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import type { RequestPrincipal } from '../../lib/policy/match.js';

export const BUCKET = 'arn:aws:s3:::b1';
export const ACCOUNT = '111122223333';
export const SAME = `arn:aws:iam::${ACCOUNT}:role/probe`;
export const OTHER = 'arn:aws:iam::999999999999:role/probe';
export const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/01234567-89ab-cdef-0123-456789abcdef`;
export const OTHER_KEY =
  'arn:aws:kms:us-east-1:999999999999:key/00000000-0000-4000-8000-000000000000';

export const oneOrMany = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 3 }));

const principal = fc.constantFrom<unknown>(
  '*',
  { AWS: '*' },
  { AWS: ['*'] },
  { AWS: ACCOUNT },
  { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  { AWS: SAME },
  { AWS: [OTHER, SAME] },
);
const action = fc.constantFrom(
  's3:*',
  '*',
  's3:Get*',
  's3:GetObject',
  's3:PutObject',
  's3:ListBucket',
  's3:Put*',
  's3:*Object',
  's3:?etObject',
  'S3:GETOBJECT',
  's3:Delete*',
);
const resource = fc.constantFrom(
  BUCKET,
  `${BUCKET}/*`,
  '*',
  `${BUCKET}*`,
  'arn:aws:s3:::other/*',
  `${BUCKET}/logs/*`,
  `${BUCKET}/*.txt`,
  'arn:aws:s3:::*',
  `${BUCKET}/public/*`,
  `${BUCKET}/p?blic/*`,
  `${BUCKET}/a*`,
  `${BUCKET}/logs/20??/*.gz`,
  'arn:aws:s3:::b?/*',
);

/** Object keys inside each of the policy's own object patterns: `public/*` gives `public/zz`. */
export function keysFromPatterns(doc: { Statement: Record<string, unknown>[] }): string[] {
  const patterns = doc.Statement.flatMap((s) => [s.Resource, s.NotResource])
    .flat()
    .filter((p): p is string => typeof p === 'string' && p.includes('/'));
  return [
    ...new Set(
      patterns.map((p) =>
        p
          .slice(p.indexOf('/') + 1)
          .replace(/\*/g, 'zz')
          .replace(/\?/g, 'q'),
      ),
    ),
  ].filter((key) => key !== '');
}
export const conditionBlock = fc.constantFrom<[string, string, unknown]>(
  ['Bool', 'aws:SecureTransport', 'false'],
  ['Bool', 'aws:SecureTransport', false],
  ['Bool', 'aws:SecureTransport', 'true'],
  ['BoolIfExists', 'aws:SecureTransport', ['false']],
  ['Bool', 'AWS:securetransport', 'false'],
  ['NumericLessThan', 's3:TlsVersion', 1.2],
  ['NumericLessThan', 's3:TlsVersion', '1.3'],
  ['NumericLessThanEquals', 's3:TlsVersion', '1.1'],
  ['StringNotEquals', 's3:x-amz-server-side-encryption', 'AES256'],
  ['StringNotEquals', 's3:x-amz-server-side-encryption', ['AES256', 'aws:kms']],
  ['StringNotEqualsIfExists', 's3:x-amz-server-side-encryption', 'aws:kms'],
  ['StringEquals', 's3:x-amz-server-side-encryption', 'AES256'],
  ['Null', 's3:x-amz-server-side-encryption', 'true'],
  ['Null', 's3:x-amz-server-side-encryption', false],
  ['Null', 's3:x-amz-server-side-encryption-aws-kms-key-id', 'true'],
  ['ArnNotEqualsIfExists', 's3:x-amz-server-side-encryption-aws-kms-key-id', KEY],
  ['StringNotEquals', 's3:x-amz-server-side-encryption-aws-kms-key-id', KEY],
  ['Null', 's3:x-amz-server-side-encryption-customer-algorithm', 'false'],
  ['StringLike', 's3:x-amz-server-side-encryption-customer-algorithm', '*'],
  ['StringEquals', 'aws:SourceVpce', 'vpce-1'],
  ['StringNotEquals', 'aws:SourceVpce', ['vpce-1', 'vpce-2']],
  ['StringNotEqualsIfExists', 'aws:SourceVpce', 'vpce-1'],
  ['StringLike', 'aws:UserAgent', '*cli*'],
);

const statement = fc
  .record({
    effect: fc.constantFrom('Deny', 'Deny', 'Allow'),
    notPrincipal: fc.boolean(),
    principal,
    notAction: fc.boolean(),
    action: oneOrMany(action),
    notResource: fc.boolean(),
    resource: oneOrMany(resource),
    conditions: fc.array(conditionBlock, { maxLength: 2 }),
  })
  .map((s) => {
    const condition: Record<string, Record<string, unknown>> = {};
    for (const [operator, key, value] of s.conditions) {
      condition[operator] = { ...condition[operator], [key]: value };
    }
    const usesNotPrincipal =
      s.notPrincipal && s.effect === 'Deny' && typeof s.principal === 'object';
    return {
      Effect: s.effect,
      ...(usesNotPrincipal ? { NotPrincipal: s.principal } : { Principal: s.principal }),
      ...(s.notAction && s.effect === 'Deny' ? { NotAction: s.action } : { Action: s.action }),
      ...(s.notResource && s.effect === 'Deny'
        ? { NotResource: s.resource }
        : { Resource: s.resource }),
      ...(s.conditions.length > 0 ? { Condition: condition } : {}),
    };
  });

export const policy = fc
  .array(statement, { minLength: 1, maxLength: 3 })
  .map((Statement) => ({ Version: '2012-10-17', Statement }));

export interface Probe {
  who: 'anonymous' | 'same' | 'other';
  action: string;
  resource: string;
  context: Record<string, string>;
}

export const probe: fc.Arbitrary<Probe> = fc
  .record({
    who: fc.constantFrom('anonymous' as const, 'same' as const, 'other' as const),
    action: fc.constantFrom(
      's3:GetObject',
      's3:PutObject',
      's3:ListBucket',
      's3:DeleteObject',
      's3:GetBucketPolicy',
    ),
    key: fc.constantFrom('k', 'logs/a.txt', 'x.txt'),
    secure: fc.boolean(),
    tls: fc.constantFrom('1.0', '1.2', '1.3'),
    sse: fc.constantFrom('none', 'AES256', 'kms-pinned', 'kms-other', 'kms-no-key', 'sse-c'),
    vpce: fc.constantFrom(undefined, 'vpce-1', 'vpce-2'),
  })
  .map((p) => {
    const onBucket = p.action === 's3:ListBucket' || p.action === 's3:GetBucketPolicy';
    const context: Record<string, string> = {
      'aws:SecureTransport': String(p.secure),
      'aws:UserAgent': 'aws-cli/2.15',
    };
    if (p.secure) context['s3:TlsVersion'] = p.tls;
    if (p.vpce) context['aws:SourceVpce'] = p.vpce;
    if (p.action === 's3:PutObject') {
      if (p.sse === 'AES256') context['s3:x-amz-server-side-encryption'] = 'AES256';
      if (p.sse.startsWith('kms')) context['s3:x-amz-server-side-encryption'] = 'aws:kms';
      if (p.sse === 'kms-pinned') context['s3:x-amz-server-side-encryption-aws-kms-key-id'] = KEY;
      if (p.sse === 'kms-other')
        context['s3:x-amz-server-side-encryption-aws-kms-key-id'] = OTHER_KEY;
      if (p.sse === 'sse-c')
        context['s3:x-amz-server-side-encryption-customer-algorithm'] = 'AES256';
    }
    return {
      who: p.who,
      action: p.action,
      resource: onBucket ? BUCKET : `${BUCKET}/${p.key}`,
      context,
    };
  });

export const principals: Record<Probe['who'], RequestPrincipal> = {
  anonymous: { kind: 'anonymous' },
  same: { kind: 'same-account', account: ACCOUNT, arn: SAME },
  other: { kind: 'other-account', account: '999999999999', arn: OTHER },
};

/** RCPs by the level they are attached to (root first), as iam-simulate takes them. */
export type RcpLevels = { orgIdentifier: string; policies: { name: string; policy: unknown }[] }[];

export async function theirs(
  doc: unknown,
  request: Probe,
  rcps: RcpLevels = [],
): Promise<boolean | 'invalid'> {
  const anonymous = request.who === 'anonymous';
  const result = await runSimulation(
    {
      request: {
        principal: anonymous ? anonymousPrincipal : request.who === 'same' ? SAME : OTHER,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context,
      },
      identityPolicies: anonymous
        ? []
        : [
            {
              name: 'admin',
              policy: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
              },
            },
          ],
      serviceControlPolicies: [],
      resourceControlPolicies: rcps,
      ...(doc === undefined ? {} : { resourcePolicy: doc }),
    },
    {},
  );
  if (result.resultType === 'error') return 'invalid';
  return result.overallResult === 'ExplicitlyDenied';
}
