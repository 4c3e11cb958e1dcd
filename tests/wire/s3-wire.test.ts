import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../lib/collect/clients.js';
import { collectEvidence } from '../../lib/collect/scan.js';
import { evaluateScan } from '../../lib/scan/evaluate-scan.js';
import { tlsPolicy } from '../helpers/evidence.js';
import {
  callerIdentity,
  type FakeAws,
  type SeenRequest,
  s3ErrorXml,
  s3Xml,
  startFakeAws,
} from '../helpers/fake-aws-server.js';

const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const XML = { 'content-type': 'application/xml' };

function bucketXml(name: string, region: string): string {
  return `<Bucket><Name>${name}</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate><BucketRegion>${region}</BucketRegion></Bucket>`;
}

/** Answers the way S3, STS and KMS answer, by what the request asks for. */
function answer(request: SeenRequest) {
  const sts = callerIdentity(request, ACCOUNT);
  if (sts) return sts;
  if (request.service === 'kms') {
    const target = String(request.headers['x-amz-target']);
    if (target.endsWith('DescribeKey')) {
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({
          KeyMetadata: {
            KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
            Arn: KEY,
            AWSAccountId: ACCOUNT,
            CreationDate: 1.7092836e9,
            Enabled: true,
            KeyManager: 'CUSTOMER',
            KeyState: 'Enabled',
            KeySpec: 'SYMMETRIC_DEFAULT',
            KeyUsage: 'ENCRYPT_DECRYPT',
            Origin: 'AWS_KMS',
          },
        }),
      };
    }
    return {
      status: 400,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({
        __type: 'AccessDeniedException',
        message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/s3scan/scan is not authorized to perform: kms:GetKeyRotationStatus on resource: ${KEY}`,
      }),
    };
  }
  const [, bucket] = request.path.split('/');
  if (!bucket) {
    const token = request.query.get('continuation-token');
    if (request.query.get('max-buckets') !== '1000')
      return {
        status: 400,
        headers: XML,
        body: s3ErrorXml('InvalidArgument', 'test expects max-buckets=1000'),
      };
    return token
      ? {
          status: 200,
          headers: XML,
          body: s3Xml(
            'ListAllMyBucketsResult',
            `<Buckets>${bucketXml('logs.example.com', 'us-east-1')}${bucketXml('moved-bucket', 'us-east-1')}</Buckets><Owner><ID>owner</ID></Owner>`,
          ),
        }
      : {
          status: 200,
          headers: XML,
          body: s3Xml(
            'ListAllMyBucketsResult',
            `<Buckets>${bucketXml('kms-bucket', 'us-east-1')}${bucketXml('denied-bucket', 'us-east-1')}</Buckets><Owner><ID>owner</ID></Owner><ContinuationToken>page-2</ContinuationToken>`,
          ),
        };
  }
  // moved-bucket lives in eu-west-1: anything signed for another region gets the 301.
  if (bucket === 'moved-bucket' && request.region !== 'eu-west-1') {
    return {
      status: 301,
      headers: { ...XML, 'x-amz-bucket-region': 'eu-west-1' },
      body: s3ErrorXml(
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        `<Endpoint>moved-bucket.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>moved-bucket</Bucket>`,
      ),
    };
  }
  if (request.headers['x-amz-expected-bucket-owner'] !== ACCOUNT) {
    return { status: 403, headers: XML, body: s3ErrorXml('AccessDenied', 'Access Denied') };
  }
  if (request.query.has('encryption')) {
    const rule =
      bucket === 'kms-bucket'
        ? `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>${KEY}</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>`
        : '<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes>';
    return {
      status: 200,
      headers: XML,
      body: s3Xml('ServerSideEncryptionConfiguration', `<Rule>${rule}</Rule>`),
    };
  }
  if (request.query.has('policy')) {
    if (bucket === 'denied-bucket')
      return { status: 403, headers: XML, body: s3ErrorXml('AccessDenied', 'Access Denied') };
    if (bucket === 'kms-bucket')
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: tlsPolicy('kms-bucket'),
      };
    return {
      status: 404,
      headers: XML,
      body: s3ErrorXml(
        'NoSuchBucketPolicy',
        'The bucket policy does not exist',
        `<BucketName>${bucket}</BucketName>`,
      ),
    };
  }
  if (request.query.has('policyStatus')) {
    return bucket === 'kms-bucket'
      ? { status: 200, headers: XML, body: s3Xml('PolicyStatus', '<IsPublic>false</IsPublic>') }
      : {
          status: 404,
          headers: XML,
          body: s3ErrorXml('NoSuchBucketPolicy', 'The bucket policy does not exist'),
        };
  }
  if (request.query.has('versioning')) {
    return {
      status: 200,
      headers: XML,
      body: s3Xml(
        'VersioningConfiguration',
        bucket === 'kms-bucket' ? '<Status>Enabled</Status>' : '',
      ),
    };
  }
  if (request.query.has('inventory')) {
    return {
      status: 200,
      headers: XML,
      body: s3Xml(
        'ListInventoryConfigurationsResult',
        bucket === 'kms-bucket'
          ? '<InventoryConfiguration><Id>daily</Id><IsEnabled>true</IsEnabled><IncludedObjectVersions>All</IncludedObjectVersions><Schedule><Frequency>Daily</Frequency></Schedule><Destination><S3BucketDestination><Bucket>arn:aws:s3:::inventory-dest</Bucket><Format>CSV</Format></S3BucketDestination></Destination><OptionalFields><Field>EncryptionStatus</Field><Field>Size</Field></OptionalFields></InventoryConfiguration><IsTruncated>false</IsTruncated>'
          : '<IsTruncated>false</IsTruncated>',
      ),
    };
  }
  return {
    status: 501,
    headers: XML,
    body: s3ErrorXml(
      'NotImplemented',
      `fake S3 does not know ${request.method} ${request.path}?${request.query}`,
    ),
  };
}

describe('Collectors over the wire (real SDK deserialisation)', () => {
  let server: FakeAws;
  let result: Awaited<ReturnType<typeof collectEvidence>>;

  beforeAll(async () => {
    server = await startFakeAws(answer);
    const clients = new AwsClients(
      {
        maxAttempts: 2,
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' },
      },
      'us-east-1',
    );
    result = await collectEvidence({
      clients,
      concurrency: 4,
      scanId: 'wire',
      scanTime: new Date('2026-11-01T06:00:00Z'),
      toolVersion: 'test',
      // An object mode that reads an inventory: versioning and the inventory configurations
      // are read only then.
      objects: { mode: 'auto', versions: false, sampleSize: 1 },
    });
    clients.destroy();
  });
  afterAll(async () => {
    await server.close();
  });

  it('pages ListBuckets with max-buckets and continuation-token and reads BucketRegion', () => {
    // Assess
    const listCalls = server.requests.filter((r) => r.service === 's3' && r.path === '/');
    expect(listCalls.map((r) => r.query.get('continuation-token'))).toEqual([null, 'page-2']);
    expect(result.evidence.buckets.map((b) => b.name)).toEqual([
      'denied-bucket',
      'kms-bucket',
      'logs.example.com',
      'moved-bucket',
    ]);
    expect(result.evidence.buckets.find((b) => b.name === 'kms-bucket')?.creationDate).toBe(
      '2024-01-02T03:04:05.000Z',
    );
  });

  it('deserialises BucketKeyEnabled as a boolean and BlockedEncryptionTypes as an object wrapping an array', () => {
    // Assess
    const kmsBucket = result.evidence.buckets.find((b) => b.name === 'kms-bucket');
    expect(kmsBucket?.encryption).toEqual({
      ok: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY },
            BucketKeyEnabled: true,
            BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
          },
        ],
      },
    });
    expect(kmsBucket?.policy).toEqual({ ok: tlsPolicy('kms-bucket') });
    expect(kmsBucket?.versioning).toEqual({ ok: { Status: 'Enabled' } });
    expect(kmsBucket?.inventoryConfigurations).toMatchObject({
      ok: [{ Id: 'daily', OptionalFields: ['EncryptionStatus', 'Size'] }],
    });
  });

  it('turns the NoSuchBucketPolicy XML into absent and AccessDenied into denied', () => {
    // Assess
    const logs = result.evidence.buckets.find((b) => b.name === 'logs.example.com');
    const denied = result.evidence.buckets.find((b) => b.name === 'denied-bucket');
    expect(logs?.policy).toEqual({ absent: 'NoSuchBucketPolicy' });
    expect(denied?.policy).toEqual({ denied: 'AccessDenied', message: 'Access Denied' });
  });

  it('follows the 301 PermanentRedirect to the bucket region and records it', () => {
    // Assess
    const moved = result.evidence.buckets.find((b) => b.name === 'moved-bucket');
    expect(moved?.region).toBe('eu-west-1');
    expect(moved?.encryption).toMatchObject({
      ok: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    expect(
      server.requests.filter((r) => r.path.startsWith('/moved-bucket')).map((r) => r.region),
    ).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1']));
  });

  it('reads KMS JSON with epoch-second dates and a 400 AccessDeniedException', () => {
    // Assess
    expect(result.evidence.kmsKeys[KEY]).toMatchObject({
      describe: { ok: { KeyState: 'Enabled', CreationDate: '2024-03-01T09:00:00.000Z' } },
      rotation: { denied: 'AccessDeniedException' },
    });
  });

  it('evaluates what came over the wire', () => {
    // Act
    const { findings } = evaluateScan(result.evidence);

    // Assess
    const status = (bucket: string, rule: string) =>
      findings.find((f) => f.resource.name === bucket && f.ruleId === rule)?.status;
    expect(status('kms-bucket', 's3-bucket-tls-enforced')).toBe('PASS');
    expect(status('kms-bucket', 's3-bucket-sse-c-blocked')).toBe('PASS');
    expect(status('kms-bucket', 's3-bucket-kms-key-rotation')).toBe('ERROR');
    expect(status('denied-bucket', 's3-bucket-tls-enforced')).toBe('ERROR');
    expect(status('logs.example.com', 's3-bucket-sse-c-blocked')).toBe('FAIL');
  });
});
