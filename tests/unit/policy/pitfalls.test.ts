import { describe, expect, it } from 'vitest';
import { analyzePolicy } from '../../../lib/policy/analyze.js';

const B = 'example-bucket';
const BUCKET = `arn:aws:s3:::${B}`;
const OBJECTS = `${BUCKET}/*`;
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/01234567-89ab-cdef-0123-456789abcdef';

function deny(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [BUCKET, OBJECTS],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    ...overrides,
  };
}

function policy(...statements: Record<string, unknown>[]): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: statements };
}

interface Case {
  name: string;
  doc: unknown;
  expected: Partial<
    Record<
      'tlsEnforced' | 'tlsMinVersion' | 'sseEnforced' | 'kmsKeyEnforced' | 'sseCBlocked',
      unknown
    >
  >;
  /** A fragment the explanation of the first gap must contain. */
  because?: RegExp;
}

const cases: Case[] = [
  // Pitfall 12: defensive parsing.
  {
    name: '12: single-object Statement, string Action and Resource',
    doc: { Version: '2012-10-17', Statement: deny({ Resource: '*', Action: '*' }) },
    expected: { tlsEnforced: true },
  },
  {
    name: '12: unquoted boolean false',
    doc: policy(deny({ Condition: { Bool: { 'aws:SecureTransport': false } } })),
    expected: { tlsEnforced: true },
  },
  {
    name: '12: BoolIfExists and an array value',
    doc: policy(deny({ Condition: { BoolIfExists: { 'aws:SecureTransport': ['false'] } } })),
    expected: { tlsEnforced: true },
  },
  {
    name: '12: lower-case key and operator, upper-case action',
    doc: policy(deny({ Action: 'S3:*', Condition: { bool: { 'AWS:securetransport': 'FALSE' } } })),
    expected: { tlsEnforced: true },
  },
  {
    name: '12: 2008-10-17 and Principal {"AWS":["*"]}',
    doc: { Version: '2008-10-17', Statement: [deny({ Principal: { AWS: ['*'] } })] },
    expected: { tlsEnforced: true },
  },
  {
    name: '12: numbers as strings and as numbers are the same',
    doc: policy(deny({ Condition: { NumericLessThan: { 's3:TlsVersion': '1.3' } } })),
    expected: { tlsMinVersion: '1.3' },
  },
  {
    name: '12: bucket and objects in two statements together cover',
    doc: policy(deny({ Resource: BUCKET }), deny({ Resource: OBJECTS })),
    expected: { tlsEnforced: true },
  },
  {
    name: '12: arn:aws:s3:::bucket* covers both ARN forms',
    doc: policy(deny({ Resource: `${BUCKET}*` })),
    expected: { tlsEnforced: true },
  },
  // Pitfall 13: only an explicit Deny enforces.
  {
    name: '13: Allow with SecureTransport true',
    doc: policy({
      ...deny({}),
      Effect: 'Allow',
      Condition: { Bool: { 'aws:SecureTransport': 'true' } },
    }),
    expected: { tlsEnforced: false },
    because: /an Allow never enforces/,
  },
  // Pitfall 14: coverage.
  {
    name: '14: a Deny on s3:PutObject alone',
    doc: policy(deny({ Action: 's3:PutObject' })),
    expected: { tlsEnforced: false },
    because: /does not cover s3:ListBucket/,
  },
  {
    name: '14: "s3:Get*" is not a substring match for everything',
    doc: policy(deny({ Action: 's3:Get*' })),
    expected: { tlsEnforced: false },
    because: /does not cover/,
  },
  {
    name: '14: objects-only Resource',
    doc: policy(deny({ Resource: OBJECTS })),
    expected: { tlsEnforced: false },
    because: /objects only: .*s3:ListBucket stay allowed/,
  },
  {
    name: '14: bucket-only Resource',
    doc: policy(deny({ Resource: BUCKET })),
    expected: { tlsEnforced: false },
    because: /bucket ARN only/,
  },
  {
    name: '14: NotPrincipal exempts a role',
    doc: policy({
      ...deny({}),
      Principal: undefined,
      NotPrincipal: { AWS: 'arn:aws:iam::111122223333:role/admin' },
    }),
    expected: { tlsEnforced: false },
    because: /NotPrincipal exempts arn:aws:iam::111122223333:role\/admin/,
  },
  {
    name: '14: NotPrincipal exempts the whole bucket account',
    doc: policy({ ...deny({}), Principal: undefined, NotPrincipal: { AWS: '111122223333' } }),
    expected: { tlsEnforced: false },
    because: /NotPrincipal exempts/,
  },
  {
    name: '14: NotAction leaves actions out',
    doc: policy({ ...deny({}), Action: undefined, NotAction: 's3:GetObject' }),
    expected: { tlsEnforced: false },
    because: /NotAction leaves s3:GetObject out/,
  },
  {
    name: '14: NotResource leaves objects out',
    doc: policy({ ...deny({}), Resource: undefined, NotResource: OBJECTS }),
    expected: { tlsEnforced: false },
  },
  {
    name: '14: a named principal only',
    doc: policy(deny({ Principal: { AWS: 'arn:aws:iam::111122223333:root' } })),
    expected: { tlsEnforced: false },
    because: /Principal names only/,
  },
  {
    name: '14: an extra aws:SourceVpce condition narrows the deny',
    doc: policy(
      deny({
        Condition: {
          Bool: { 'aws:SecureTransport': 'false' },
          StringNotEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' },
        },
      }),
    ),
    expected: { tlsEnforced: false },
    because: /aws:SourceVpce condition narrows the deny/,
  },
  {
    name: '14: an extra condition that always holds does not narrow',
    doc: policy(
      deny({
        Condition: {
          Bool: { 'aws:SecureTransport': 'false' },
          StringLikeIfExists: { 'aws:UserAgent': '*' },
        },
      }),
    ),
    expected: { tlsEnforced: true },
  },
  {
    name: '14: other partitions',
    doc: policy(
      deny({
        Resource: ['arn:aws-us-gov:s3:::example-bucket', 'arn:aws-us-gov:s3:::example-bucket/*'],
      }),
    ),
    expected: { tlsEnforced: true },
  },
  {
    name: '14: a Resource of another bucket',
    doc: policy(deny({ Resource: ['arn:aws:s3:::other-bucket', 'arn:aws:s3:::other-bucket/*'] })),
    expected: { tlsEnforced: false },
    because: /does not cover/,
  },
  // Pitfall 15: inverted Bool.
  {
    name: '15: Bool SecureTransport "true" on a Deny is inverted',
    doc: policy(deny({ Condition: { Bool: { 'aws:SecureTransport': 'true' } } })),
    expected: { tlsEnforced: false },
    because: /inverted/,
  },
  {
    name: '15: StringEquals on the Boolean key is not trusted',
    doc: policy(deny({ Condition: { StringEquals: { 'aws:SecureTransport': 'false' } } })),
    expected: { tlsEnforced: false },
    because: /type mismatch/,
  },
  {
    name: '15: Null on SecureTransport never matches',
    doc: policy(deny({ Condition: { Null: { 'aws:SecureTransport': 'true' } } })),
    expected: { tlsEnforced: false },
  },
  {
    name: '15: an unknown operator is conservative and named',
    doc: policy(deny({ Condition: { BoolFancy: { 'aws:SecureTransport': 'false' } } })),
    expected: { tlsEnforced: false },
    because: /BoolFancy is not one s3scan understands/,
  },
  // Pitfall 16: SecureTransport and TlsVersion AND-ed in one statement.
  {
    name: '16: SecureTransport false AND TlsVersion < 1.2 in one statement never fires for HTTP',
    doc: policy(
      deny({
        Condition: {
          Bool: { 'aws:SecureTransport': 'false' },
          NumericLessThan: { 's3:TlsVersion': '1.2' },
        },
      }),
    ),
    expected: { tlsEnforced: false, tlsMinVersion: null },
    because: /AND-ed with aws:SecureTransport/,
  },
  {
    name: '16: the two in separate statements both hold',
    doc: policy(deny({}), deny({ Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } })),
    expected: { tlsEnforced: true, tlsMinVersion: '1.2' },
  },
  // Pitfall 17: TLS-version-only policies.
  {
    name: '17: TLS-version-only deny stays conservative and says why',
    doc: policy(deny({ Condition: { NumericLessThan: { 's3:TlsVersion': '1.3' } } })),
    expected: { tlsEnforced: false, tlsMinVersion: '1.3' },
    because: /Knowledge Center/,
  },
  {
    name: '17: NumericLessThanEquals 1.1 means a 1.2 minimum',
    doc: policy(deny({ Condition: { NumericLessThanEquals: { 's3:TlsVersion': '1.1' } } })),
    expected: { tlsMinVersion: '1.2' },
  },
  // Pitfall 18: encryption-header policies.
  {
    name: '18: positive StringEquals lets header-less uploads through',
    doc: policy(
      deny({
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: { StringEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
      }),
    ),
    expected: { sseEnforced: false },
    because: /false when the header is missing/,
  },
  {
    name: '18: StringNotEqualsIfExists requires the header',
    doc: policy(
      deny({
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: {
          StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': ['AES256', 'aws:kms'] },
        },
      }),
    ),
    expected: { sseEnforced: true, kmsKeyEnforced: null },
  },
  {
    name: '18: a header requirement limited to one principal does not count',
    doc: policy(
      deny({
        Principal: { AWS: 'arn:aws:iam::111122223333:role/app' },
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
      }),
    ),
    expected: { sseEnforced: false },
    because: /Principal names only/,
  },
  {
    name: '18: "s3:Put*" covers PutObject',
    doc: policy(
      deny({
        Action: 's3:Put*',
        Resource: OBJECTS,
        Condition: { Null: { 's3:x-amz-server-side-encryption': true } },
      }),
    ),
    expected: { sseEnforced: true },
  },
  // Pitfall 19: KMS key pinning.
  {
    name: '19: algorithm and key in one StringNotEquals block are AND-ed',
    doc: policy(
      deny({
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: {
          StringNotEquals: {
            's3:x-amz-server-side-encryption': 'aws:kms',
            's3:x-amz-server-side-encryption-aws-kms-key-id': KEY,
          },
        },
      }),
    ),
    expected: { kmsKeyEnforced: false },
    because: /AND-ed/,
  },
  {
    name: '19: the key alone in its statement pins it',
    doc: policy(
      deny({
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      }),
      deny({
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: {
          StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY },
        },
      }),
    ),
    expected: { sseEnforced: true, kmsKeyEnforced: true },
  },
  {
    name: '19: an alias instead of a key ARN does not pin',
    doc: policy(
      deny({
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: {
          StringNotEqualsIfExists: {
            's3:x-amz-server-side-encryption-aws-kms-key-id': 'alias/app',
          },
        },
      }),
    ),
    expected: { kmsKeyEnforced: false },
  },
  {
    name: 'SSE-C: StringLike AES256 on the customer algorithm blocks SSE-C',
    doc: policy(
      deny({
        Action: 's3:PutObject',
        Resource: OBJECTS,
        Condition: { StringLike: { 's3:x-amz-server-side-encryption-customer-algorithm': '*' } },
      }),
    ),
    expected: { sseCBlocked: true, sseEnforced: null },
  },
  {
    name: 'SSE-C: a deny on GetObject only does not block SSE-C uploads',
    doc: policy(
      deny({
        Action: 's3:GetObject',
        Resource: OBJECTS,
        Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
      }),
    ),
    expected: { sseCBlocked: false },
    because: /does not cover s3:PutObject/,
  },
];

describe('analyzePolicy near misses (aws-facts pitfalls 12 to 19)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    // Act
    const analysis = analyzePolicy(JSON.parse(JSON.stringify(testCase.doc)), {
      bucket: B,
      accountId: '111122223333',
    });

    // Assess
    for (const [verdict, value] of Object.entries(testCase.expected)) {
      expect({ verdict, value: analysis[verdict as keyof typeof analysis] }).toEqual({
        verdict,
        value,
      });
    }
    if (testCase.because) {
      expect(analysis.gaps.map((g) => g.reason).join('\n')).toMatch(testCase.because);
    }
  });
});
