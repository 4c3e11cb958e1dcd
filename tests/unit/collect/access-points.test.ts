import {
  GetAccessPointPolicyCommand,
  GetMultiRegionAccessPointPolicyCommand,
  ListAccessPointsCommand,
  ListMultiRegionAccessPointsCommand,
  S3ControlClient,
  S3ControlServiceException,
} from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectAccessPoints } from '../../../lib/collect/access-points.js';
import { AwsClients } from '../../../lib/collect/clients.js';
import { meta } from '../../helpers/aws-errors.js';
import { ACCOUNT, bucketEvidence } from '../../helpers/evidence.js';

const control = mockClient(S3ControlClient);
const clients = (options: { s3Endpoint?: string } = {}) =>
  new AwsClients(
    {
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      ...options,
    },
    'us-east-1',
  );
const unlimited = <T>(fn: () => Promise<T>) => fn();

/** S3 Control answers errors in REST-XML with no modeled shapes: the name is the code. */
const controlError = (name: string, status: number, message: string) =>
  new S3ControlServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: meta(status),
    message,
  });

const ap = (name: string, bucket: string, extra: Record<string, unknown> = {}) => ({
  Name: name,
  Bucket: bucket,
  NetworkOrigin: 'Internet' as const,
  AccessPointArn: `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/${name}`,
  Alias: `${name}-abcdefghijklmnopqrstuvwxyz012345678-s3alias`,
  BucketAccountId: ACCOUNT,
  ...extra,
});

beforeEach(() => {
  control.on(ListMultiRegionAccessPointsCommand).resolves({ AccessPoints: [] });
});
afterEach(() => control.reset());

describe('Access points: one listing per region, each one’s policy', () => {
  it('lists every page once per region, keeps those on scanned buckets, and reads each policy', async () => {
    // Prepare
    control
      .on(ListAccessPointsCommand, { NextToken: undefined })
      .resolves({
        AccessPointList: [ap('analytics', 'b1'), ap('other', 'not-scanned')],
        NextToken: 'p2',
      })
      .on(ListAccessPointsCommand, { NextToken: 'p2' })
      .resolves({
        AccessPointList: [
          ap('vpc-only', 'b1', { NetworkOrigin: 'VPC', VpcConfiguration: { VpcId: 'vpc-0abc' } }),
          ap('foreign', 'b2', { BucketAccountId: '999988887777' }),
        ],
      });
    control
      .on(GetAccessPointPolicyCommand, { Name: 'analytics' })
      .resolves({ Policy: '{"Version":"2012-10-17","Statement":[]}' })
      .on(GetAccessPointPolicyCommand, { Name: 'vpc-only' })
      .rejects(
        controlError(
          'NoSuchAccessPointPolicy',
          404,
          'The specified accesspoint policy does not exist',
        ),
      );
    const buckets = [bucketEvidence('b1'), bucketEvidence('b2')];

    // Act
    await collectAccessPoints(clients(), ACCOUNT, buckets, unlimited);

    // Assess
    expect(control).toHaveReceivedCommandWith(ListAccessPointsCommand, {
      AccountId: ACCOUNT,
      MaxResults: 1000,
    });
    expect(control).toHaveReceivedCommandTimes(ListAccessPointsCommand, 2);
    expect(buckets[0]?.accessPoints).toEqual({
      ok: [
        expect.objectContaining({
          name: 'analytics',
          arn: `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/analytics`,
          policy: { ok: '{"Version":"2012-10-17","Statement":[]}' },
        }),
        expect.objectContaining({
          name: 'vpc-only',
          networkOrigin: 'VPC',
          vpcId: 'vpc-0abc',
          policy: { absent: 'NoSuchAccessPointPolicy' },
        }),
      ],
    });
    // Another account's access point on a same-named bucket is not this bucket's.
    expect(buckets[1]?.accessPoints).toEqual({ ok: [] });
  });

  it('records a denied listing as denied for the region’s buckets, never as "no access points"', async () => {
    // Prepare
    control.on(ListAccessPointsCommand).rejects(controlError('AccessDenied', 403, 'Access Denied'));
    const buckets = [bucketEvidence('b1')];

    // Act
    await collectAccessPoints(clients(), ACCOUNT, buckets, unlimited);

    // Assess
    expect(buckets[0]?.accessPoints).toEqual({ denied: 'AccessDenied', message: 'Access Denied' });
  });

  it('asks no S3 Control of an S3-compatible store and says so', async () => {
    // Prepare
    const buckets = [bucketEvidence('b1')];

    // Act
    await collectAccessPoints(
      clients({ s3Endpoint: 'http://127.0.0.1:9000' }),
      ACCOUNT,
      buckets,
      unlimited,
    );

    // Assess
    expect(control).not.toHaveReceivedCommand(ListAccessPointsCommand);
    expect(buckets[0]?.accessPoints).toEqual({ absent: 'S3ControlUnavailable' });
  });

  it('adds the Multi-Region Access Points routing to a scanned bucket, with their established policy', async () => {
    // Prepare
    control.on(ListAccessPointsCommand).resolves({ AccessPointList: [] });
    control.on(ListMultiRegionAccessPointsCommand).resolves({
      AccessPoints: [
        {
          Name: 'global',
          Alias: 'mfzwi23gnjvgw.mrap',
          CreatedAt: new Date('2026-01-01T00:00:00Z'),
          Status: 'READY',
          Regions: [
            { Bucket: 'b1', Region: 'us-east-1', BucketAccountId: ACCOUNT },
            { Bucket: 'elsewhere', Region: 'eu-west-1', BucketAccountId: '999988887777' },
          ],
        },
        {
          Name: 'unrelated',
          Alias: 'abcdefghijklm.mrap',
          Regions: [{ Bucket: 'other', Region: 'us-east-1' }],
        },
      ],
    });
    control.on(GetMultiRegionAccessPointPolicyCommand, { Name: 'global' }).resolves({
      Policy: {
        Established: { Policy: '{"Version":"2012-10-17","Statement":[]}' },
        Proposed: { Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny"}]}' },
      },
    });
    const buckets = [bucketEvidence('b1')];

    // Act
    await collectAccessPoints(clients(), ACCOUNT, buckets, unlimited);

    // Assess
    expect(control).toHaveReceivedCommandTimes(GetMultiRegionAccessPointPolicyCommand, 1);
    expect(buckets[0]?.accessPoints).toEqual({
      ok: [
        {
          name: 'global',
          arn: `arn:aws:s3::${ACCOUNT}:accesspoint/mfzwi23gnjvgw.mrap`,
          alias: 'mfzwi23gnjvgw.mrap',
          multiRegion: true,
          policy: { ok: '{"Version":"2012-10-17","Statement":[]}' },
        },
      ],
    });
  });

  it('leaves the buckets’ lists unknown, never short, when the Multi-Region listing fails', async () => {
    // Prepare
    control.on(ListAccessPointsCommand).resolves({ AccessPointList: [] });
    control
      .on(ListMultiRegionAccessPointsCommand)
      .rejects(controlError('AccessDenied', 403, 'Access Denied'));
    const buckets = [bucketEvidence('b1')];

    // Act
    await collectAccessPoints(clients(), ACCOUNT, buckets, unlimited);

    // Assess
    expect(buckets[0]?.accessPoints).toEqual({ denied: 'AccessDenied', message: 'Access Denied' });
  });

  it('records a policy answer without a policy as an error of that access point, never as "no policy"', async () => {
    // Prepare
    control.on(ListAccessPointsCommand).resolves({ AccessPointList: [ap('analytics', 'b1')] });
    control.on(GetAccessPointPolicyCommand).resolves({});
    const buckets = [bucketEvidence('b1')];

    // Act
    await collectAccessPoints(clients(), ACCOUNT, buckets, unlimited);

    // Assess
    expect(buckets[0]?.accessPoints).toMatchObject({
      ok: [
        {
          name: 'analytics',
          policy: {
            error: 'CollectError',
            message: 'GetAccessPointPolicy of analytics returned no policy',
          },
        },
      ],
    });
  });
});
