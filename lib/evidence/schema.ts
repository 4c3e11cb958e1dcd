import { ACCOUNT_ID_FIELD } from '../validation/fields.js';

/**
 * JSON Schema of the evidence files (`ScanEvidence` bundles and per-bucket files). The
 * committed copy in `schemas/evidence.schema.json` is checked against this by a test.
 */

function probe(value: object): object {
  return {
    oneOf: [
      { type: 'object', required: ['ok'], additionalProperties: false, properties: { ok: value } },
      {
        type: 'object',
        required: ['absent'],
        additionalProperties: false,
        properties: { absent: { type: 'string' } },
      },
      {
        type: 'object',
        required: ['denied'],
        additionalProperties: false,
        properties: { denied: { type: 'string' }, message: { type: 'string' } },
      },
      {
        type: 'object',
        required: ['error', 'message'],
        additionalProperties: false,
        properties: { error: { type: 'string' }, message: { type: 'string' } },
      },
    ],
  };
}

const stringList = { type: 'array', items: { type: 'string' } };

const encryptionRule = {
  type: 'object',
  properties: {
    ApplyServerSideEncryptionByDefault: {
      type: 'object',
      properties: { SSEAlgorithm: { type: 'string' }, KMSMasterKeyID: { type: 'string' } },
    },
    BucketKeyEnabled: { type: 'boolean' },
    BlockedEncryptionTypes: { type: 'object', properties: { EncryptionType: stringList } },
  },
};

const objectTally = {
  type: 'object',
  required: ['count', 'bytes', 'examples'],
  properties: {
    count: { type: 'integer', minimum: 0 },
    bytes: { type: 'number', minimum: 0 },
    examples: stringList,
  },
};
const tallies = { type: 'object', additionalProperties: objectTally };

const objectScan = {
  type: 'object',
  required: [
    'mode',
    'versions',
    'complete',
    'listed',
    'classified',
    'byEncryption',
    'noncurrentByEncryption',
    'byKmsKey',
    'byStorageClass',
    'denied',
    'failed',
    'deleteMarkers',
  ],
  properties: {
    mode: { enum: ['sample', 'full', 'inventory'] },
    inventory: { type: 'object' },
    inventoryUnavailable: { type: 'string' },
    versions: { type: 'boolean' },
    complete: { type: 'boolean' },
    listed: { type: 'integer', minimum: 0 },
    classified: { type: 'integer', minimum: 0 },
    byEncryption: tallies,
    noncurrentByEncryption: tallies,
    byKmsKey: tallies,
    byStorageClass: { type: 'object' },
    unknownAlgorithms: { type: 'object', additionalProperties: { type: 'integer' } },
    clientSide: { type: 'object' },
    plaintextVerified: { type: 'object' },
    newestSseC: { type: 'string' },
    sseCInferred: { type: 'integer', minimum: 0 },
    kmsKeyUnknown: { type: 'integer', minimum: 0 },
    denied: objectTally,
    failed: objectTally,
    deleteMarkers: { type: 'integer', minimum: 0 },
    listError: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

const accessPoint = {
  type: 'object',
  required: ['name', 'arn', 'policy'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    arn: { type: 'string', pattern: '^arn:' },
    alias: { type: 'string' },
    networkOrigin: { type: 'string' },
    vpcId: { type: 'string' },
    bucketAccountId: { type: 'string' },
    multiRegion: { type: 'boolean' },
    policy: probe({ type: 'string' }),
  },
};

const bucket = {
  type: 'object',
  required: [
    'name',
    'arn',
    'region',
    'accountId',
    'partition',
    'encryption',
    'policy',
    'policyStatus',
  ],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    kind: { enum: ['directory'] },
    arn: { type: 'string', minLength: 1 },
    region: { type: 'string', minLength: 1 },
    accountId: { type: 'string' },
    partition: { type: 'string' },
    creationDate: { type: 'string' },
    encryption: probe({
      type: 'object',
      required: ['Rules'],
      properties: { Rules: { type: 'array', items: encryptionRule } },
    }),
    policy: probe({ type: 'string' }),
    policyStatus: probe({ type: 'object', properties: { IsPublic: { type: 'boolean' } } }),
    versioning: probe({
      type: 'object',
      properties: { Status: { type: 'string' }, MFADelete: { type: 'string' } },
    }),
    inventoryConfigurations: probe({ type: 'array', items: { type: 'object' } }),
    defaultKmsKeyRef: { type: 'string' },
    objects: objectScan,
    accessPoints: probe({ type: 'array', items: accessPoint }),
  },
};

const kmsKey = {
  type: 'object',
  required: ['ref', 'region', 'describe'],
  additionalProperties: false,
  properties: {
    ref: { type: 'string' },
    region: { type: 'string' },
    describe: probe({
      type: 'object',
      required: ['KeyId'],
      properties: {
        KeyId: { type: 'string' },
        Arn: { type: 'string' },
        AWSAccountId: { type: 'string' },
        KeyManager: { type: 'string' },
        KeyState: { type: 'string' },
        Enabled: { type: 'boolean' },
        KeySpec: { type: 'string' },
        KeyUsage: { type: 'string' },
        DeletionDate: { type: 'string' },
      },
    }),
    rotation: probe({
      type: 'object',
      properties: {
        KeyRotationEnabled: { type: 'boolean' },
        RotationPeriodInDays: { type: 'number' },
        NextRotationDate: { type: 'string' },
      },
    }),
    keyPolicy: probe({ type: 'string' }),
  },
};

const account = {
  type: 'object',
  required: ['accountId', 'access', 'status', 'region', 'buckets'],
  additionalProperties: false,
  properties: {
    accountId: ACCOUNT_ID_FIELD,
    name: { type: 'string' },
    access: { enum: ['own', 'role'] },
    roleArn: { type: 'string' },
    status: { enum: ['scanned', 'failed', 'skipped'] },
    reason: { type: 'string' },
    region: { type: 'string', minLength: 1 },
    buckets: { type: 'integer', minimum: 0 },
  },
};

const listing = {
  type: 'object',
  required: ['accountId', 'region', 'result'],
  additionalProperties: false,
  properties: {
    accountId: { type: 'string' },
    region: { type: 'string', minLength: 1 },
    result: probe({
      type: 'object',
      required: ['buckets'],
      additionalProperties: false,
      properties: { buckets: { type: 'integer', minimum: 0 } },
    }),
  },
};

const policyTarget = {
  type: 'object',
  required: ['id', 'type'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1 },
    type: { enum: ['ROOT', 'ORGANIZATIONAL_UNIT', 'ACCOUNT'] },
  },
};

const organizationPolicy = {
  type: 'object',
  required: ['id', 'name', 'target', 'content'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1 },
    name: { type: 'string' },
    arn: { type: 'string' },
    awsManaged: { type: 'boolean' },
    target: policyTarget,
    content: { type: 'string' },
  },
};

const policyLayers = {
  type: 'object',
  required: ['accountId', 'rcps', 'scps'],
  additionalProperties: false,
  properties: {
    accountId: ACCOUNT_ID_FIELD,
    organizationId: { type: 'string' },
    managementAccountId: { type: 'string' },
    path: { type: 'array', items: policyTarget },
    rcps: probe({ type: 'array', items: organizationPolicy }),
    scps: probe({ type: 'array', items: organizationPolicy }),
  },
};

const common = {
  schemaVersion: { type: 'string', pattern: '^1\\.\\d+$' },
  tool: {
    type: 'object',
    required: ['name', 'version'],
    properties: { name: { type: 'string' }, version: { type: 'string' } },
  },
  scanId: { type: 'string', minLength: 1 },
  // The rules' only clock: an ISO 8601 UTC time (a real one is checked when loading).
  scanTime: {
    type: 'string',
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$',
  },
  accountId: { type: 'string' },
  partition: { type: 'string' },
  callerArn: { type: 'string' },
  kmsKeys: { type: 'object', additionalProperties: kmsKey },
};

/** Schema of a whole-scan evidence bundle or a per-bucket evidence file. */
export const EVIDENCE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://s3scan.dev/schemas/evidence.json',
  title: 's3scan evidence',
  oneOf: [
    {
      type: 'object',
      required: [
        'schemaVersion',
        'tool',
        'scanId',
        'scanTime',
        'accountId',
        'partition',
        'buckets',
        'kmsKeys',
      ],
      additionalProperties: false,
      properties: {
        ...common,
        buckets: { type: 'array', items: bucket },
        accounts: { type: 'array', items: account },
        directoryListings: { type: 'array', items: listing },
        policyLayers: { type: 'array', items: policyLayers },
      },
    },
    {
      type: 'object',
      required: [
        'schemaVersion',
        'tool',
        'scanId',
        'scanTime',
        'accountId',
        'partition',
        'bucket',
        'kmsKeys',
      ],
      additionalProperties: false,
      properties: { ...common, bucket },
    },
  ],
};
