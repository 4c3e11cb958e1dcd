import {
  callerIdentity,
  type FakeAws,
  type FakeResponse,
  type SeenRequest,
  s3ErrorXml,
  s3Xml,
  startFakeAws,
} from './fake-aws-server.js';

/** One object of a fake bucket, with what a HEAD answers about it. */
export interface FakeObject {
  key: string;
  size?: number;
  /** `x-amz-server-side-encryption`; absent for a legacy plaintext object. */
  sse?: string;
  kmsKeyId?: string;
  /** An SSE-C object: a key-less HEAD answers 400. */
  sseC?: boolean;
}

/** One bucket of a fake account. */
export interface FakeBucket {
  name: string;
  region: string;
  /** Default encryption: SSE-S3 when absent. */
  kmsKeyArn?: string;
  policy?: string;
  versioning?: 'Enabled' | 'Suspended';
  objects?: FakeObject[];
}

/** An AWS account as S3, STS and KMS describe it over the wire. */
export interface FakeAccountModel {
  account: string;
  buckets: FakeBucket[];
  /** KMS keys by ARN, with their KeyState. */
  keys?: Record<string, { state: string }>;
}

/**
 * What the fault hook sees: the request and the operation it is (`ListBuckets`,
 * `GetBucketPolicy`, `HeadObject`, `DescribeKey`, ...). Returning a response (or a fault)
 * answers instead of the model.
 */
export type FaultHook = (
  request: SeenRequest,
  operation: string,
  bucket: string | undefined,
) => FakeResponse | undefined;

const XML = { 'content-type': 'application/xml' };
const JSON_11 = { 'content-type': 'application/x-amz-json-1.1' };

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** The S3 / KMS / STS operation a request is, as the SDK would have named it. */
export function operationOf(request: SeenRequest): { operation: string; bucket?: string } {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (target.includes('.')) return { operation: target.split('.').pop() ?? target };
  if (request.service === 'sts' || request.body.includes('Action=GetCallerIdentity'))
    return { operation: 'GetCallerIdentity' };
  // S3 Control (access points): REST-XML under /v20180820/.
  if (request.path.startsWith('/v20180820/mrap/instances'))
    return {
      operation: request.path.endsWith('/policy')
        ? 'GetMultiRegionAccessPointPolicy'
        : 'ListMultiRegionAccessPoints',
    };
  if (request.path.startsWith('/v20180820/accesspoint'))
    return {
      operation: request.path.endsWith('/policy') ? 'GetAccessPointPolicy' : 'ListAccessPoints',
    };
  const [, bucket, ...rest] = request.path.split('/');
  if (!bucket) return { operation: 'ListBuckets' };
  if (request.method === 'HEAD' && rest.length > 0) return { operation: 'HeadObject', bucket };
  if (request.method === 'HEAD') return { operation: 'HeadBucket', bucket };
  const q = request.query;
  const sub = ['encryption', 'policyStatus', 'policy', 'versioning', 'inventory'].find((k) =>
    q.has(k),
  );
  const names: Record<string, string> = {
    encryption: 'GetBucketEncryption',
    policyStatus: 'GetBucketPolicyStatus',
    policy: 'GetBucketPolicy',
    versioning: 'GetBucketVersioning',
    inventory: 'ListBucketInventoryConfigurations',
  };
  if (sub) return { operation: names[sub]!, bucket };
  if (q.get('list-type') === '2') return { operation: 'ListObjectsV2', bucket };
  if (q.has('versions')) return { operation: 'ListObjectVersions', bucket };
  return { operation: `${request.method} ${request.path}`, bucket };
}

function kmsAnswer(model: FakeAccountModel, operation: string, body: string): FakeResponse {
  const keyId = (JSON.parse(body || '{}') as { KeyId?: string }).KeyId ?? '';
  const arn = Object.keys(model.keys ?? {}).find((a) => a === keyId || a.endsWith(`/${keyId}`));
  if (!arn) {
    return {
      status: 400,
      headers: JSON_11,
      body: JSON.stringify({
        __type: 'NotFoundException',
        message: `Key '${keyId}' does not exist`,
      }),
    };
  }
  const state = model.keys?.[arn]?.state ?? 'Enabled';
  if (operation === 'DescribeKey') {
    return {
      status: 200,
      headers: JSON_11,
      body: JSON.stringify({
        KeyMetadata: {
          KeyId: arn.split('/').pop(),
          Arn: arn,
          AWSAccountId: arn.split(':')[4],
          CreationDate: 1.7092836e9,
          Enabled: state === 'Enabled',
          KeyManager: 'CUSTOMER',
          KeyState: state,
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          Origin: 'AWS_KMS',
        },
      }),
    };
  }
  if (operation === 'GetKeyPolicy')
    return {
      status: 200,
      headers: JSON_11,
      body: JSON.stringify({
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Id: 'key-default-1',
          Statement: [
            {
              Sid: 'Enable IAM User Permissions',
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${arn.split(':')[4]}:root` },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        }),
        PolicyName: 'default',
      }),
    };
  return {
    status: 200,
    headers: JSON_11,
    body: JSON.stringify({ KeyRotationEnabled: true, KeyId: arn, RotationPeriodInDays: 365 }),
  };
}

function bucketAnswer(
  bucket: FakeBucket,
  operation: string,
  request: SeenRequest,
): FakeResponse | undefined {
  switch (operation) {
    case 'GetBucketEncryption': {
      const rule = bucket.kmsKeyArn
        ? `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>${bucket.kmsKeyArn}</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>`
        : '<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled>';
      return {
        status: 200,
        headers: XML,
        body: s3Xml('ServerSideEncryptionConfiguration', `<Rule>${rule}</Rule>`),
      };
    }
    case 'GetBucketPolicy':
    case 'GetBucketPolicyStatus':
      if (!bucket.policy)
        return {
          status: 404,
          headers: XML,
          body: s3ErrorXml(
            'NoSuchBucketPolicy',
            'The bucket policy does not exist',
            `<BucketName>${bucket.name}</BucketName>`,
          ),
        };
      return operation === 'GetBucketPolicy'
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: bucket.policy }
        : { status: 200, headers: XML, body: s3Xml('PolicyStatus', '<IsPublic>false</IsPublic>') };
    case 'GetBucketVersioning':
      return {
        status: 200,
        headers: XML,
        body: s3Xml(
          'VersioningConfiguration',
          bucket.versioning ? `<Status>${bucket.versioning}</Status>` : '',
        ),
      };
    case 'ListBucketInventoryConfigurations':
      return {
        status: 200,
        headers: XML,
        body: s3Xml('ListInventoryConfigurationsResult', '<IsTruncated>false</IsTruncated>'),
      };
    case 'ListObjectsV2': {
      const all = [...(bucket.objects ?? [])].sort((a, b) => (a.key < b.key ? -1 : 1));
      const max = Number(request.query.get('max-keys') ?? 1000);
      const after = request.query.get('continuation-token') ?? request.query.get('start-after');
      const rest = after ? all.filter((o) => o.key > after) : all;
      const page = rest.slice(0, max);
      const truncated = rest.length > page.length;
      const contents = page
        .map(
          (o) =>
            `<Contents><Key>${escapeXml(o.key)}</Key><LastModified>2022-06-01T00:00:00.000Z</LastModified><ETag>"e"</ETag><Size>${o.size ?? 10}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('');
      return {
        status: 200,
        headers: XML,
        body: s3Xml(
          'ListBucketResult',
          `<Name>${bucket.name}</Name><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${escapeXml(page.at(-1)?.key ?? '')}</NextContinuationToken>` : ''}${contents}`,
        ),
      };
    }
    case 'HeadObject': {
      const key = request.path.slice(bucket.name.length + 2);
      const object = bucket.objects?.find((o) => o.key === key);
      if (!object) return { status: 404 };
      if (object.sseC) return { status: 400 };
      return {
        status: 200,
        headers: {
          'last-modified': 'Wed, 01 Jun 2022 00:00:00 GMT',
          'content-length': String(object.size ?? 10),
          ...(object.sse ? { 'x-amz-server-side-encryption': object.sse } : {}),
          ...(object.kmsKeyId
            ? { 'x-amz-server-side-encryption-aws-kms-key-id': object.kmsKeyId }
            : {}),
        },
      };
    }
    default:
      return undefined;
  }
}

/**
 * A whole account served over HTTP on 127.0.0.1: STS, ListBuckets (with BucketRegion), the
 * five bucket reads, ListObjectsV2, HeadObject, DescribeKey and GetKeyRotationStatus, answered
 * as AWS answers them, with a hook to inject faults into any request.
 */
export async function startFakeAccount(
  model: FakeAccountModel,
  options: { fault?: FaultHook; latencyMs?: number } = {},
): Promise<FakeAws> {
  return startFakeAws(
    (request) => {
      const { operation, bucket: bucketName } = operationOf(request);
      const injected = options.fault?.(request, operation, bucketName);
      if (injected) return injected;
      const sts = callerIdentity(request, model.account);
      if (sts) return sts;
      if (['DescribeKey', 'GetKeyRotationStatus', 'GetKeyPolicy'].includes(operation))
        return kmsAnswer(model, operation, request.body);
      // The account has no access points, of either kind.
      if (operation === 'ListMultiRegionAccessPoints')
        return {
          status: 200,
          headers: XML,
          body: '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultiRegionAccessPointsResult><AccessPoints></AccessPoints></ListMultiRegionAccessPointsResult>',
        };
      if (operation === 'ListAccessPoints')
        return {
          status: 200,
          headers: XML,
          body: '<?xml version="1.0" encoding="UTF-8"?>\n<ListAccessPointsResult><AccessPointList></AccessPointList></ListAccessPointsResult>',
        };
      if (operation === 'ListBuckets') {
        const list = model.buckets
          .map(
            (b) =>
              `<Bucket><Name>${b.name}</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate><BucketRegion>${b.region}</BucketRegion></Bucket>`,
          )
          .join('');
        return {
          status: 200,
          headers: XML,
          body: s3Xml(
            'ListAllMyBucketsResult',
            `<Buckets>${list}</Buckets><Owner><ID>owner</ID></Owner>`,
          ),
        };
      }
      const bucket = model.buckets.find((b) => b.name === bucketName);
      if (!bucket)
        return {
          status: 404,
          headers: XML,
          body: s3ErrorXml('NoSuchBucket', 'The specified bucket does not exist'),
        };
      return (
        bucketAnswer(bucket, operation, request) ?? {
          status: 501,
          headers: XML,
          body: s3ErrorXml('NotImplemented', `fake account does not know ${operation}`),
        }
      );
    },
    options.latencyMs ? { latencyMs: options.latencyMs } : {},
  );
}
