import { ASSURANCE_KINDS, SEVERITIES, STATUSES } from '../engine/types.js';

// The JSON Schema of `--format json`: `{ summary, findings }`. The committed copy is
// schemas/findings-output.schema.json; a test keeps the two equal and validates real output.

const statusCounts = {
  type: 'object',
  required: [...STATUSES],
  additionalProperties: false,
  properties: Object.fromEntries(STATUSES.map((s) => [s, { type: 'integer', minimum: 0 }])),
};

const assurance = {
  oneOf: [
    {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: { kind: { const: 'complete' }, carriedFrom: { type: 'string' } },
    },
    {
      type: 'object',
      required: ['kind', 'classified', 'listed'],
      additionalProperties: false,
      properties: {
        kind: { const: 'sample' },
        classified: { type: 'integer', minimum: 0 },
        listed: { type: 'integer', minimum: 0 },
        upperBound95: { type: 'number', minimum: 0, maximum: 1 },
        carriedFrom: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: ['kind', 'deliveredAt', 'ageDays'],
      additionalProperties: false,
      properties: {
        kind: { const: 'inventory' },
        deliveredAt: { type: 'string' },
        ageDays: { type: 'number' },
        carriedFrom: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: { kind: { const: 'none' } },
    },
  ],
};

const finding = {
  type: 'object',
  required: [
    'ruleId',
    'title',
    'status',
    'severity',
    'resource',
    'message',
    'details',
    'evidenceRef',
    'fingerprint',
  ],
  additionalProperties: false,
  properties: {
    ruleId: { type: 'string', pattern: '^s3-[a-z0-9-]+$' },
    title: { type: 'string' },
    status: { enum: [...STATUSES] },
    severity: { enum: [...SEVERITIES] },
    resource: {
      type: 'object',
      required: ['arn', 'type', 'name', 'region', 'account'],
      additionalProperties: false,
      properties: {
        arn: { type: 'string', pattern: '^arn:' },
        type: { enum: ['AWS::S3::Bucket', 'AWS::S3::AccessPoint', 'AWS::::Account'] },
        name: { type: 'string' },
        region: { type: 'string' },
        account: { type: 'string' },
      },
    },
    message: { type: 'string' },
    details: { type: 'object' },
    evidenceRef: { type: 'string' },
    fingerprint: { type: 'string', pattern: '^[0-9a-f]{32}$' },
    suppression: {
      type: 'object',
      required: ['resource', 'reason', 'expires', 'active'],
      additionalProperties: false,
      properties: {
        resource: { type: 'string' },
        reason: { type: 'string' },
        expires: { type: 'string' },
        active: { type: 'boolean' },
      },
    },
    assurance,
  },
};

/** Schema of `s3scan scan|report|evaluate --format json`. */
export const FINDINGS_OUTPUT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://s3scan.dev/schemas/findings-output.json',
  title: 's3scan findings (--format json)',
  type: 'object',
  required: ['summary', 'findings'],
  additionalProperties: false,
  properties: {
    summary: {
      type: 'object',
      required: [
        'scanId',
        'scanTime',
        'accountId',
        'buckets',
        'findings',
        'byStatus',
        'failedBySeverity',
        'byRule',
        'byBucket',
        'suppressed',
        'expiredSuppressions',
        'disabledRules',
      ],
      properties: {
        scanId: { type: 'string' },
        scanTime: { type: 'string' },
        accountId: { type: 'string' },
        buckets: { type: 'integer', minimum: 0 },
        findings: { type: 'integer', minimum: 0 },
        byStatus: statusCounts,
        failedBySeverity: {
          type: 'object',
          required: [...SEVERITIES],
          additionalProperties: false,
          properties: Object.fromEntries(
            SEVERITIES.map((s) => [s, { type: 'integer', minimum: 0 }]),
          ),
        },
        byRule: { type: 'object', additionalProperties: statusCounts },
        byBucket: { type: 'object', additionalProperties: statusCounts },
        byAccount: { type: 'object', additionalProperties: statusCounts },
        byAssurance: {
          type: 'object',
          propertyNames: { enum: [...ASSURANCE_KINDS] },
          additionalProperties: statusCounts,
        },
        suppressed: { type: 'integer', minimum: 0 },
        expiredSuppressions: { type: 'array', items: { type: 'object' } },
        disabledRules: { type: 'array', items: { type: 'string' } },
      },
    },
    findings: { type: 'array', items: finding },
  },
} as const;
