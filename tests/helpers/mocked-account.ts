/**
 * One mocked AWS account for the tests that drive s3scan through the SDK (aws-sdk-client-mock):
 * STS says who the caller is, ListBuckets lists the buckets, and each bucket answers the five
 * bucket reads as AWS does (errors with `name` and `$metadata.httpStatusCode`, policies as JSON
 * strings). Defaults are an SSE-S3 bucket with no policy, no versioning and no inventory.
 */
import {
  DescribeKeyCommand,
  type DescribeKeyCommandOutput,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  GetBucketEncryptionCommand,
  type GetBucketEncryptionCommandOutput,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketVersioningCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  ListAccessPointsCommand,
  ListMultiRegionAccessPointsCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { noSuchBucketPolicy, organizationsError } from './aws-errors.js';
import { defaultKeyPolicy } from './evidence.js';

type Stub<C> = AwsClientStub<C>;

/** The account id every mocked account uses unless told otherwise. */
export const MOCK_ACCOUNT = '111122223333';

/** SSE-S3 default encryption, as GetBucketEncryption answers it. */
export const sseS3 = (): Omit<GetBucketEncryptionCommandOutput, '$metadata'> => ({
  ServerSideEncryptionConfiguration: {
    Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }],
  },
});

/** SSE-KMS default encryption with a key, as GetBucketEncryption answers it. */
export const sseKms = (keyArn: string, bucketKey = true) => ({
  ServerSideEncryptionConfiguration: {
    Rules: [
      {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms' as const,
          KMSMasterKeyID: keyArn,
        },
        BucketKeyEnabled: bucketKey,
      },
    ],
  },
});

/** A bucket of the mocked account: what each read answers (an Error is thrown). */
export interface MockedBucket {
  name: string;
  region?: string;
  encryption?: Omit<GetBucketEncryptionCommandOutput, '$metadata'> | Error;
  /** The policy document (serialised as AWS returns it), or an Error. */
  policy?: object | Error;
  versioning?: { Status?: 'Enabled' | 'Suspended' } | Error;
  /** ListBucketInventoryConfigurations' list (none by default). */
  inventoryConfigurations?: object[];
}

/** A KMS key of the mocked account. */
export interface MockedKey {
  arn: string;
  manager?: 'CUSTOMER' | 'AWS';
  state?: NonNullable<DescribeKeyCommandOutput['KeyMetadata']>['KeyState'];
  rotation?: boolean;
  /** The key policy GetKeyPolicy returns (a JSON string), or its error; the default policy by default. */
  policy?: string | Error;
}

let organizations: Stub<OrganizationsClient> | undefined;
let control: Stub<S3ControlClient> | undefined;

/**
 * The mocked account belongs to no organisation: Organizations answers DescribeOrganization
 * with AWSOrganizationsNotInUseException (HTTP 400), as AWS does for a standalone account.
 */
function standaloneAccount(): void {
  // No access points either: each region's ListAccessPoints lists none.
  control ??= mockClient(S3ControlClient);
  control.reset();
  control.on(ListAccessPointsCommand).resolves({ AccessPointList: [] });
  control.on(ListMultiRegionAccessPointsCommand).resolves({ AccessPoints: [] });
  organizations ??= mockClient(OrganizationsClient);
  organizations.reset();
  organizations
    .on(DescribeOrganizationCommand)
    .rejects(
      organizationsError(
        'AWSOrganizationsNotInUseException',
        400,
        'Your account is not a member of an organization.',
      ),
    );
}

/** Answers every call of one account; reset the stubs in afterEach as usual. */
export function mockAccount(
  stubs: { s3: Stub<S3Client>; sts: Stub<STSClient>; kms?: Stub<KMSClient> },
  account: {
    accountId?: string;
    /** The role session the caller is (its ARN ends with it). */
    session?: string;
    buckets: MockedBucket[];
    keys?: MockedKey[];
  },
): void {
  const accountId = account.accountId ?? MOCK_ACCOUNT;
  standaloneAccount();
  stubs.sts.on(GetCallerIdentityCommand).resolves({
    Account: accountId,
    Arn: `arn:aws:sts::${accountId}:assumed-role/s3scan/${account.session ?? 'scan'}`,
    UserId: 'AROAEXAMPLE:scan',
  });
  stubs.s3.on(ListBucketsCommand).resolves({
    Buckets: account.buckets.map((b) => ({
      Name: b.name,
      BucketRegion: b.region ?? 'us-east-1',
      CreationDate: new Date('2024-01-02T03:04:05Z'),
    })),
  });
  for (const bucket of account.buckets) {
    const answer = <T>(
      stub: { resolves: (v: T) => unknown; rejects: (e: Error) => unknown },
      value: T | Error,
    ) => (value instanceof Error ? stub.rejects(value) : stub.resolves(value));
    answer(
      stubs.s3.on(GetBucketEncryptionCommand, { Bucket: bucket.name }),
      bucket.encryption ?? sseS3(),
    );
    const policy = bucket.policy;
    if (policy instanceof Error || policy === undefined)
      stubs.s3
        .on(GetBucketPolicyCommand, { Bucket: bucket.name })
        .rejects(policy ?? noSuchBucketPolicy());
    else
      stubs.s3
        .on(GetBucketPolicyCommand, { Bucket: bucket.name })
        .resolves({ Policy: JSON.stringify(policy) });
    stubs.s3
      .on(GetBucketPolicyStatusCommand, { Bucket: bucket.name })
      .rejects(noSuchBucketPolicy());
    answer(
      stubs.s3.on(GetBucketVersioningCommand, { Bucket: bucket.name }),
      bucket.versioning ?? {},
    );
    stubs.s3.on(ListBucketInventoryConfigurationsCommand, { Bucket: bucket.name }).resolves({
      IsTruncated: false,
      ...(bucket.inventoryConfigurations
        ? { InventoryConfigurationList: bucket.inventoryConfigurations as never }
        : {}),
    });
  }
  for (const key of account.keys ?? []) {
    const keyId = key.arn.split('/').pop() ?? key.arn;
    stubs.kms?.on(DescribeKeyCommand, { KeyId: key.arn }).resolves({
      KeyMetadata: {
        KeyId: keyId,
        Arn: key.arn,
        AWSAccountId: key.arn.split(':')[4],
        KeyManager: key.manager ?? 'CUSTOMER',
        KeyState: key.state ?? 'Enabled',
        Enabled: (key.state ?? 'Enabled') === 'Enabled',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Origin: 'AWS_KMS',
        CreationDate: new Date('2024-01-01T00:00:00Z'),
      },
    });
    stubs.kms
      ?.on(GetKeyRotationStatusCommand, { KeyId: key.arn })
      .resolves({ KeyRotationEnabled: key.rotation ?? true, KeyId: key.arn });
    // Only with the one valid policy name, as emulators insist and AWS defaults.
    const policy = stubs.kms?.on(GetKeyPolicyCommand, { KeyId: key.arn, PolicyName: 'default' });
    if (key.policy instanceof Error) policy?.rejects(key.policy);
    else
      policy?.resolves({
        Policy: key.policy ?? defaultKeyPolicy(key.arn.split(':')[4]),
        PolicyName: 'default',
      });
  }
}
