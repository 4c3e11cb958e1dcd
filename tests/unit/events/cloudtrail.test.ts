import { describe, expect, it } from 'vitest';
import { coalesce, readEvents } from '../../../lib/events/cloudtrail.js';

/**
 * CloudTrail records as AWS documents them (alerts-orgs-dashboard.md §B.2), in each envelope
 * they arrive in: bare, inside EventBridge's "AWS API Call via CloudTrail", KMS's own
 * "KMS CMK Deletion", an SQS batch of envelopes, and a CloudTrail log file.
 */
const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:us-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const putBucketEncryption = {
  eventVersion: '1.09',
  userIdentity: {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
    accountId: ACCOUNT,
  },
  eventTime: '2026-12-01T10:00:00Z',
  eventSource: 's3.amazonaws.com',
  eventName: 'PutBucketEncryption',
  awsRegion: 'eu-west-1',
  requestParameters: {
    bucketName: 'payments-data',
    Host: 'payments-data.s3.eu-west-1.amazonaws.com',
    encryption: '',
  },
  responseElements: null,
  readOnly: false,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: ACCOUNT,
};

/** The documented ScheduleKeyDeletion record (ct-schedule-key-deletion.html). */
const scheduleKeyDeletion = {
  eventVersion: '1.08',
  userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/Alice` },
  eventTime: '2021-03-23T18:58:30Z',
  eventSource: 'kms.amazonaws.com',
  eventName: 'ScheduleKeyDeletion',
  awsRegion: 'us-west-2',
  requestParameters: { pendingWindowInDays: 20, keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
  responseElements: {
    keyId: KEY,
    keyState: 'PendingDeletion',
    deletionDate: 'Apr 12, 2021 18:58:30 PM',
  },
  readOnly: false,
  resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: KEY }],
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: ACCOUNT,
};

const envelope = (detail: object, extra: object = {}) => ({
  version: '0',
  id: 'f3b1c3e2-0000-4000-8000-000000000001',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.s3',
  account: ACCOUNT,
  time: '2026-12-01T10:00:02Z',
  region: 'eu-west-1',
  resources: [],
  detail,
  ...extra,
});

describe('readEvents: CloudTrail posture changes in every envelope', () => {
  it('reads a bare S3 record and the same record in an EventBridge envelope alike', () => {
    // Act
    const bare = readEvents(putBucketEncryption);
    const wrapped = readEvents(envelope(putBucketEncryption));

    // Assess
    const expected = {
      target: 'bucket',
      account: ACCOUNT,
      region: 'eu-west-1',
      bucket: 'payments-data',
      eventName: 'PutBucketEncryption',
      eventTime: '2026-12-01T10:00:00Z',
    };
    expect(bare).toEqual([{ changes: [expected], dropped: [] }]);
    expect(wrapped).toEqual([{ changes: [expected], dropped: [] }]);
  });

  it('identifies a KMS key by resources[].ARN, whatever the caller passed as keyId', () => {
    // Act
    const [message] = readEvents(envelope(scheduleKeyDeletion, { source: 'aws.kms' }));

    // Assess
    expect(message?.changes).toEqual([
      {
        target: 'key',
        account: ACCOUNT,
        region: 'us-west-2',
        keyArn: KEY,
        eventName: 'ScheduleKeyDeletion',
        eventTime: '2021-03-23T18:58:30Z',
      },
    ]);
  });

  it('builds the key ARN from a bare key id when the record has no ARN', () => {
    // Prepare
    const { resources: _r, responseElements: _e, ...bare } = scheduleKeyDeletion;

    // Act
    const [message] = readEvents({ ...bare, eventName: 'DisableKey' });

    // Assess
    expect(message?.changes[0]).toMatchObject({
      target: 'key',
      keyArn: KEY,
      eventName: 'DisableKey',
    });
  });

  it('reads KMS’s own key-deletion event', () => {
    // Act
    const [message] = readEvents({
      version: '0',
      id: 'e9ce3425-7d22-412a-a699-e7a5fc3fbc9a',
      'detail-type': 'KMS CMK Deletion',
      source: 'aws.kms',
      account: ACCOUNT,
      time: '2026-12-01T11:00:00Z',
      region: 'us-west-2',
      resources: [KEY],
      detail: { 'key-id': '1234abcd-12ab-34cd-56ef-1234567890ab' },
    });

    // Assess
    expect(message?.changes).toEqual([
      expect.objectContaining({ target: 'key', keyArn: KEY, eventName: 'KeyDeleted' }),
    ]);
  });

  it('drops and counts failed calls, unknown operations and s3scan’s own sessions; never throws', () => {
    // Act
    const [message] = readEvents({
      Records: [
        { ...putBucketEncryption, errorCode: 'AccessDenied', errorMessage: 'Access Denied' },
        { ...putBucketEncryption, eventName: 'PutBucketTagging' },
        { ...putBucketEncryption, eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
        {
          ...putBucketEncryption,
          userIdentity: {
            arn: `arn:aws:sts::${ACCOUNT}:assumed-role/s3scan-read/s3scan-2026-12-01T000000Z-abc`,
          },
        },
        { ...putBucketEncryption, requestParameters: {} },
        { ...putBucketEncryption, recipientAccountId: 'nope', awsRegion: undefined },
        'not a record',
        putBucketEncryption,
      ],
    });

    // Assess: one change, and each dropped record says why.
    expect(message?.changes).toHaveLength(1);
    expect(message?.dropped.map((d) => d.reason)).toEqual([
      'failed-call',
      'unknown-operation',
      'unknown-operation',
      'own-principal',
      'no-resource',
      'no-resource',
      'not-an-event',
    ]);
    expect(message?.dropped[0]?.detail).toMatch(/AccessDenied/);
  });

  it('reads an SQS batch message by message: a body that is not JSON or not an event is malformed', () => {
    // Act
    const messages = readEvents({
      Records: [
        {
          messageId: 'm-1',
          eventSource: 'aws:sqs',
          body: JSON.stringify(envelope(putBucketEncryption)),
        },
        { messageId: 'm-2', eventSource: 'aws:sqs', body: '{"truncated": ' },
        { messageId: 'm-3', eventSource: 'aws:sqs', body: JSON.stringify({ hello: 'world' }) },
        {
          messageId: 'm-4',
          eventSource: 'aws:sqs',
          body: JSON.stringify(envelope({ ...putBucketEncryption, eventName: 'GetBucketAcl' })),
        },
        { messageId: 'm-5', eventSource: 'aws:sqs' },
      ],
    });

    // Assess
    expect(messages.map((m) => [m.messageId, m.changes.length, Boolean(m.malformed)])).toEqual([
      ['m-1', 1, false],
      ['m-2', 0, true],
      ['m-3', 0, true],
      ['m-4', 0, false],
      ['m-5', 0, true],
    ]);
    expect(messages[1]?.malformed).toMatch(/not JSON/);
    expect(messages[3]?.dropped[0]?.reason).toBe('unknown-operation');
  });

  it('drops a bucketName no bucket can have (a newline, an escape sequence), quoting it on one line', () => {
    // Prepare
    const hostile = 'evil\nEvents: 0 posture changes\u001b[31m';

    // Act
    const [message] = readEvents({
      ...putBucketEncryption,
      requestParameters: { bucketName: hostile },
    });

    // Assess
    expect(message?.changes).toEqual([]);
    expect(message?.dropped[0]).toMatchObject({ reason: 'no-resource' });
    expect(message?.dropped[0]?.detail).toBe(
      'requestParameters.bucketName "evil\\nEvents: 0 posture changes\\u001b[31m" is not a bucket name',
    );
    expect(message?.dropped[0]?.detail).not.toContain('\n');
    expect(message?.dropped[0]?.detail).not.toContain(String.fromCharCode(27));
    // A legacy us-east-1 name (capitals, underscores) is still a bucket.
    expect(
      readEvents({
        ...putBucketEncryption,
        requestParameters: { bucketName: 'Legacy_Bucket.1' },
      })[0]?.changes,
    ).toHaveLength(1);
  });

  it('calls anything that is not an object malformed', () => {
    expect(readEvents(42)[0]?.malformed).toMatch(/not a JSON object/);
    expect(readEvents({ foo: 1 })[0]?.malformed).toMatch(/neither an EventBridge envelope/);
  });
});

describe('coalesce: a burst of events is one rescan per bucket and per key', () => {
  it('turns 10,000 events over 500 buckets and 3 keys into 503 targets', () => {
    // Prepare
    const names = ['PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketEncryption'];
    const records = Array.from({ length: 10_000 }, (_, i) =>
      i % 1000 === 999
        ? {
            ...scheduleKeyDeletion,
            resources: [{ ARN: KEY.replace('1234abcd', `000${i % 3}abcd`) }],
          }
        : {
            ...putBucketEncryption,
            eventName: names[i % 3],
            requestParameters: { bucketName: `bucket-${i % 500}` },
          },
    );

    // Act
    const [message] = readEvents({ Records: records });
    const targets = coalesce(message!.changes);

    // Assess
    expect(message?.changes).toHaveLength(10_000);
    expect(targets.buckets).toHaveLength(500);
    expect(targets.keys).toHaveLength(3);
    expect(targets.buckets[0]).toMatchObject({ bucket: 'bucket-0', account: ACCOUNT });
    expect(new Set(targets.buckets.flatMap((b) => b.events))).toEqual(new Set(names));
  });
});
