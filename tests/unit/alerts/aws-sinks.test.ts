import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CallPacer, clipBytes } from '../../../lib/alerts/aws-batch.js';
import { DETAIL_TYPES, EventBridgeSink, entrySize } from '../../../lib/alerts/eventbridge.js';
import { SecurityHubSink } from '../../../lib/alerts/security-hub.js';
import { alertSettingsOf } from '../../../lib/alerts/settings.js';
import type { AlertDigest } from '../../../lib/alerts/sink.js';
import { sinksFromSettings } from '../../../lib/alerts/sinks.js';
import { SNS_LIMITS, SnsSink, topicRegion } from '../../../lib/alerts/sns.js';
import type { Finding } from '../../../lib/engine/types.js';
import { diffScans, type ScanSide } from '../../../lib/history/drift.js';
import { ACCOUNT, finding } from '../../helpers/findings.js';

const TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:s3scan-alerts`;
const WHOLE = { accountId: ACCOUNT, buckets: [], regions: [] };

function digestOf(
  before: Finding[],
  after: Finding[],
  extra: Partial<AlertDigest> & { firstSeen?: Map<string, string> } = {},
): AlertDigest {
  const { firstSeen, ...rest } = extra;
  const previous: ScanSide = {
    scanId: 's1',
    scanTime: '2026-11-01T00:00:00.000Z',
    findings: before,
    ...(firstSeen ? { firstSeen } : {}),
  };
  return {
    account: ACCOUNT,
    toolVersion: '0.1.0',
    drift: diffScans(
      previous,
      { scanId: 's2', scanTime: '2026-11-02T00:00:00.000Z', findings: after },
      WHOLE,
    ),
    ...rest,
  };
}

/** `n` buckets that were fine and now fail. */
function regressions(n: number, options: Parameters<typeof finding>[3] = {}) {
  const before = Array.from({ length: n }, (_, i) => finding('rule-a', `b${i}`, 'PASS', options));
  const after = Array.from({ length: n }, (_, i) => finding('rule-a', `b${i}`, 'FAIL', options));
  return digestOf(before, after);
}

const sdkError = (name: string, status?: number) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    ...(status ? { $metadata: { httpStatusCode: status } } : { $metadata: {} }),
  });

describe('SnsSink: PublishBatch within its limits', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());
  const sink = (perFinding = true) =>
    new SnsSink({
      sns: new SNSClient({ region: 'eu-west-1' }),
      topicArn: TOPIC,
      perFinding,
      baseDelayMs: 1,
    });

  it('one digest plus one message per change, at most 10 entries a call, with filter attributes', () => {
    // Prepare
    const digest = regressions(25);

    // Act
    const batches = sink().plan(digest);

    // Assess
    const entries = batches.flatMap((b) => b.entries);
    expect(entries).toHaveLength(26);
    expect(batches.every((b) => b.entries.length <= SNS_LIMITS.batchEntries)).toBe(true);
    expect(entries[0]?.id).toBe('digest');
    const change = entries[1]!.payload;
    expect(Object.keys(change.attributes).sort()).toEqual(
      ['account', 'bucket', 'change', 'region', 'rule', 's3scan.type', 'severity'].sort(),
    );
    expect(change.attributes.change?.StringValue).toBe('regressed');
    expect(Object.keys(change.attributes).length).toBeLessThanOrEqual(SNS_LIMITS.attributes);
    expect(JSON.parse(change.message)).toMatchObject({
      change: 'regressed',
      previousStatus: 'PASS',
    });
  });

  it('a finding larger than every limit is cut with a marker, never refused; batches stay under 256 KB', () => {
    // Prepare: a message of 300 KB of multi-byte text.
    const huge = 'ü'.repeat(150_000);
    const digest = digestOf(
      [],
      [
        finding('rule-a', 'b0', 'FAIL', { message: huge }),
        finding('rule-a', 'b1', 'FAIL', { message: huge }),
      ],
    );

    // Act
    const batches = sink().plan(digest);

    // Assess
    for (const batch of batches) {
      const total = batch.entries.reduce(
        (n, e) =>
          n +
          Buffer.byteLength(e.payload.message) +
          Object.entries(e.payload.attributes).reduce(
            (m, [k, v]) =>
              m + k.length + (v.DataType?.length ?? 0) + Buffer.byteLength(v.StringValue ?? ''),
            0,
          ),
        0,
      );
      expect(total).toBeLessThanOrEqual(SNS_LIMITS.messageBytes);
    }
    const messages = batches.flatMap((b) => b.entries.map((e) => e.payload.message));
    expect(messages.some((m) => m.endsWith('… (truncated)'))).toBe(true);
    expect(messages.every((m) => !m.includes('\uFFFD'))).toBe(true);
  });

  it('subjects stay under 100 characters with no control characters, whatever the bucket is called', () => {
    // Prepare
    const digest = digestOf([], [finding('rule-a', `evil\n\u0007${'x'.repeat(200)}`, 'FAIL')]);

    // Act
    const subjects = sink()
      .plan(digest)
      .flatMap((b) => b.entries.map((e) => e.payload.subject));

    // Assess
    for (const subject of subjects) {
      expect(subject.length).toBeLessThan(100);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the test
      expect(subject).not.toMatch(/[\u0000-\u001f]/);
    }
  });

  it('re-sends only the Failed entries without SenderFault; SenderFault ones are reported', async () => {
    // Prepare: e1 fails transiently once, e2 is the sender's fault.
    let call = 0;
    sns.on(PublishBatchCommand).callsFake((input) => {
      call += 1;
      const ids: string[] = input.PublishBatchRequestEntries.map((e: { Id: string }) => e.Id);
      const failed = ids.filter((_id, i) => (call === 1 && i === 1) || (call === 1 && i === 2));
      return {
        Successful: ids
          .filter((id) => !failed.includes(id))
          .map((Id) => ({ Id, MessageId: `m-${Id}` })),
        Failed: failed.map((Id, i) => ({
          Id,
          Code: i === 0 ? 'InternalError' : 'InvalidParameter',
          Message: 'no',
          SenderFault: i !== 0,
        })),
      };
    });
    const s = sink();
    const [batch] = s.plan(regressions(3));

    // Act
    const outcome = await s.deliver(batch!);

    // Assess
    const sent = sns
      .commandCalls(PublishBatchCommand)
      .map((c) => c.args[0].input.PublishBatchRequestEntries?.length);
    expect(sent).toEqual([4, 1]);
    expect(outcome.delivered).toHaveLength(3);
    expect(outcome.failed).toEqual([
      expect.objectContaining({ code: 'InvalidParameter', kind: 'permanent' }),
    ]);
  });

  it('a refused call is permanent (AuthorizationError 403), throttling is retried, no answer is in doubt', async () => {
    // Prepare
    const [batch] = sink(false).plan(regressions(1));
    sns.on(PublishBatchCommand).rejects(sdkError('AuthorizationErrorException', 403));
    const denied = await sink(false).deliver(batch!);
    sns.reset();
    sns
      .on(PublishBatchCommand)
      .rejectsOnce(sdkError('KMSThrottlingException', 400))
      .resolves({
        Successful: [{ Id: 'e0', MessageId: 'x' }],
        Failed: [],
      });
    const throttled = await sink(false).deliver(batch!);
    sns.reset();
    sns
      .on(PublishBatchCommand)
      .rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));

    // Act
    const reset = await sink(false).deliver(batch!);

    // Assess
    expect(denied.failed[0]).toMatchObject({
      code: 'AuthorizationErrorException',
      kind: 'permanent',
    });
    expect(throttled).toEqual({ delivered: ['digest'], failed: [] });
    expect(reset.failed[0]).toMatchObject({ kind: 'in-doubt' });
  });

  it('publishes to the topic’s own region; a malformed topic ARN is refused by name', () => {
    // Act
    const region = topicRegion('arn:aws:sns:ap-southeast-2:111122223333:alerts');
    const error = (() => {
      try {
        return topicRegion('arn:aws:sqs:us-east-1:111122223333:q');
      } catch (e) {
        return e;
      }
    })();

    // Assess
    expect(region).toBe('ap-southeast-2');
    expect(String(error)).toMatch(/alerts\.sns\.topicArn .* is not an SNS topic ARN/);
  });

  it('baseline quiet: the first scan of a scope sends the digest only', () => {
    // Prepare
    const digest = {
      ...regressions(5),
      baseline: true,
      settings: alertSettingsOf({ sns: { topicArn: TOPIC, perFinding: true } }),
    };

    // Act
    const entries = sink()
      .plan(digest)
      .flatMap((b) => b.entries);

    // Assess
    expect(entries.map((e) => e.id)).toEqual(['digest']);
    expect(entries[0]?.payload.message).toMatch(/baseline/);
  });
});

describe('EventBridgeSink: PutEvents, 10 entries and 256 KB a call', () => {
  const events = mockClient(EventBridgeClient);
  beforeEach(() => events.reset());
  const sink = () =>
    new EventBridgeSink({
      events: new EventBridgeClient({ region: 'us-east-1' }),
      busName: 'default',
      baseDelayMs: 1,
    });

  it('one Scan Completed event and one Finding Changed event per change, sized as EventBridge counts', () => {
    // Prepare
    const digest = regressions(12);

    // Act
    const batches = sink().plan(digest);

    // Assess
    const entries = batches.flatMap((b) => b.entries);
    expect(entries.map((e) => e.payload.detailType)).toEqual([
      DETAIL_TYPES.scan,
      ...Array(12).fill(DETAIL_TYPES.finding),
    ]);
    expect(batches.map((b) => b.entries.length)).toEqual([10, 3]);
    for (const batch of batches)
      expect(batch.entries.reduce((n, e) => n + entrySize(e.payload), 0)).toBeLessThan(256 * 1024);
    const detail = JSON.parse(entries[1]!.payload.detail);
    expect(detail).toMatchObject({ change: 'regressed', previousStatus: 'PASS', severity: 'high' });
    expect(entries[1]?.payload.resources).toEqual([detail.finding.resource.arn]);
  });

  it('a detail past 256 KB loses its details and is cut, never refused', () => {
    // Prepare
    const digest = digestOf(
      [],
      [finding('rule-a', 'b0', 'FAIL', { message: 'x'.repeat(400_000) })],
    );

    // Act
    const entries = sink()
      .plan(digest)
      .flatMap((b) => b.entries);

    // Assess
    expect(entrySize(entries[1]!.payload)).toBeLessThan(256 * 1024);
    expect(JSON.parse(entries[1]!.payload.detail)).toMatchObject({ truncated: true });
  });

  it('re-sends entries failed with ThrottlingException or InternalFailure, by index; MalformedDetail is reported', async () => {
    // Prepare
    let call = 0;
    events.on(PutEventsCommand).callsFake((input) => {
      call += 1;
      const results = input.Entries.map((_: unknown, i: number) =>
        call === 1 && i === 1
          ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }
          : call === 1 && i === 2
            ? { ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' }
            : { EventId: `ev-${call}-${i}` },
      );
      return {
        FailedEntryCount: results.filter((r: { ErrorCode?: string }) => r.ErrorCode).length,
        Entries: results,
      };
    });
    const s = sink();
    const [batch] = s.plan(regressions(3));

    // Act
    const outcome = await s.deliver(batch!);

    // Assess
    const calls = events
      .commandCalls(PutEventsCommand)
      .map((c) => c.args[0].input.Entries?.map((e) => e.Source));
    expect(calls.map((c) => c?.length)).toEqual([4, 1]);
    expect(calls.flat().every((s) => s === 's3scan')).toBe(true);
    expect(outcome.delivered).toHaveLength(3);
    expect(outcome.failed).toEqual([
      expect.objectContaining({ code: 'MalformedDetail', kind: 'permanent' }),
    ]);
  });
});

describe('SecurityHubSink: BatchImportFindings with a stable lifecycle', () => {
  const hub = mockClient(SecurityHubClient);
  beforeEach(() => hub.reset());
  const sink = (callerAccount = ACCOUNT) =>
    new SecurityHubSink({
      client: (region) => new SecurityHubClient({ region }),
      callerAccount,
      baseDelayMs: 1,
      callsPerSecond: 1000,
    });

  it('keeps Id and FirstObservedAt/CreatedAt from when the FAIL was first seen; UpdatedAt is the scan; no Workflow', () => {
    // Prepare: failing since 2026-10-01 according to the carried state.
    const failing = finding('rule-a', 'b0', 'FAIL');
    const digest = digestOf([failing], [failing], {
      firstSeen: new Map([[failing.fingerprint, '2026-10-01T00:00:00.000Z']]),
      reimport: [failing],
    });

    // Act
    const [entry] = sink()
      .plan(digest)
      .flatMap((b) => b.entries);

    // Assess
    const asff = entry!.payload.asff;
    expect(asff).toMatchObject({
      Id: `s3scan/${failing.fingerprint}`,
      CreatedAt: '2026-10-01T00:00:00.000Z',
      FirstObservedAt: '2026-10-01T00:00:00.000Z',
      UpdatedAt: '2026-11-02T00:00:00.000Z',
      LastObservedAt: '2026-11-02T00:00:00.000Z',
      RecordState: 'ACTIVE',
      Compliance: { Status: 'FAILED' },
      FindingProviderFields: { Severity: { Label: 'HIGH' } },
    });
    expect(asff).not.toHaveProperty('Workflow');
  });

  it('resolved: PASSED and INFORMATIONAL with the old first-seen; gone: ARCHIVED; unchanged and not due: not sent', () => {
    // Prepare
    const fixed = finding('rule-a', 'fixed', 'FAIL');
    const deleted = finding('rule-a', 'deleted', 'FAIL');
    const steady = finding('rule-a', 'steady', 'FAIL');
    const digest = digestOf(
      [fixed, deleted, steady],
      [finding('rule-a', 'fixed', 'PASS'), steady],
      {
        firstSeen: new Map([[fixed.fingerprint, '2026-09-09T00:00:00.000Z']]),
      },
    );

    // Act
    const entries = sink()
      .plan(digest)
      .flatMap((b) => b.entries);

    // Assess
    const byId = Object.fromEntries(entries.map((e) => [e.id.split('-')[0], e.payload.asff]));
    expect(Object.keys(byId).sort()).toEqual(['gone', 'resolved']);
    expect(byId.resolved).toMatchObject({
      Compliance: { Status: 'PASSED' },
      Severity: { Label: 'INFORMATIONAL' },
      FirstObservedAt: '2026-09-09T00:00:00.000Z',
      RecordState: 'ACTIVE',
    });
    expect(byId.gone).toMatchObject({ RecordState: 'ARCHIVED' });
  });

  it('never sends a SKIPPED finding: a FAIL whose rule stopped applying is archived as the FAIL it was', () => {
    // Prepare: the rule no longer applies to b0 (e.g. its default key is gone to SSE-S3).
    const failing = finding('rule-a', 'b0', 'FAIL');
    const digest = digestOf([failing], [finding('rule-a', 'b0', 'SKIPPED')]);

    // Act
    const entries = sink()
      .plan(digest)
      .flatMap((b) => b.entries);

    // Assess
    expect(entries.map((e) => e.payload.asff.ProductFields?.['s3scan/Status'])).not.toContain(
      'SKIPPED',
    );
    // Drift calls it resolved; Security Hub gets the FAIL archived, not a SKIPPED finding.
    expect(digest.drift.changes.resolved).toHaveLength(1);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.payload.asff).toMatchObject({
      RecordState: 'ARCHIVED',
      Compliance: { Status: 'NOT_AVAILABLE' },
      ProductFields: { 's3scan/Status': 'FAIL' },
    });
  });

  it('groups by region and sends at most 100 findings a call, each to its own region', async () => {
    // Prepare
    const before = [
      ...Array.from({ length: 150 }, (_, i) =>
        finding('rule-a', `e${i}`, 'PASS', { region: 'eu-west-1' }),
      ),
      ...Array.from({ length: 30 }, (_, i) =>
        finding('rule-a', `u${i}`, 'PASS', { region: 'us-east-1' }),
      ),
    ];
    const after = before.map((f) => ({ ...f, status: 'FAIL' as const }));
    const batches = sink().plan(digestOf(before, after));
    const regions: string[] = [];
    hub.on(BatchImportFindingsCommand).callsFake(async (input) => {
      regions.push(input.Findings[0].Region ?? input.Findings[0].Resources[0].Region);
      return { SuccessCount: input.Findings.length, FailedCount: 0, FailedFindings: [] };
    });

    // Act
    const outcomes = await Promise.all(batches.map((b) => sink().deliver(b)));

    // Assess
    expect(batches.map((b) => [b.id, b.entries.length])).toEqual([
      ['eu-west-1-00000', 100],
      ['eu-west-1-00001', 50],
      ['us-east-1-00000', 30],
    ]);
    expect(outcomes.reduce((n, o) => n + o.delivered.length, 0)).toBe(180);
    expect(regions.sort()).toEqual(['eu-west-1', 'eu-west-1', 'us-east-1']);
  });

  it('re-sends FailedFindings with a passing cause; InvalidAccess is reported; another account’s finding is never sent', async () => {
    // Prepare
    let call = 0;
    hub.on(BatchImportFindingsCommand).callsFake(async (input) => {
      call += 1;
      const failed =
        call === 1
          ? [
              {
                Id: input.Findings[0].Id,
                ErrorCode: 'InternalException',
                ErrorMessage: 'try again',
              },
              { Id: input.Findings[1].Id, ErrorCode: 'InvalidAccess', ErrorMessage: 'not enabled' },
            ]
          : [];
      return {
        SuccessCount: input.Findings.length - failed.length,
        FailedCount: failed.length,
        FailedFindings: failed,
      };
    });
    const digest = digestOf(
      [],
      [
        finding('rule-a', 'a', 'FAIL'),
        finding('rule-a', 'b', 'FAIL'),
        finding('rule-a', 'c', 'FAIL'),
      ],
    );
    const member = finding('rule-a', 'member', 'FAIL', { account: '444455556666' });
    const memberDigest = {
      ...digest,
      drift: diffScans(
        { scanId: 's1', scanTime: '2026-11-01T00:00:00.000Z', findings: [] },
        { scanId: 's2', scanTime: '2026-11-02T00:00:00.000Z', findings: [member] },
        { ...WHOLE, accountId: '444455556666' },
      ),
    };
    const s = sink();
    const [first] = s.plan(digest);
    const [second] = s.plan(memberDigest);
    const batch = { id: 'mixed', entries: [...first!.entries, ...second!.entries] };

    // Act
    const outcome = await s.deliver(batch);

    // Assess
    const sent = hub
      .commandCalls(BatchImportFindingsCommand)
      .map((c) => c.args[0].input.Findings?.length);
    expect(sent).toEqual([3, 1]);
    expect(outcome.delivered).toHaveLength(2);
    expect(outcome.failed.map((f) => [f.code, f.kind]).sort()).toEqual([
      ['InvalidAccess', 'permanent'],
      ['OtherAccount', 'permanent'],
    ]);
  });
});

describe('SecurityHubSink: an organisation-wide scan sends each member its own findings', () => {
  const hub = mockClient(SecurityHubClient);
  beforeEach(() => hub.reset());
  const MEMBER = '444455556666';
  const findings = [
    finding('rule-a', 'own-bucket', 'FAIL'),
    finding('rule-a', 'member-bucket', 'FAIL', { account: MEMBER }),
    finding('rule-b', 'member-bucket', 'FAIL', { account: MEMBER }),
  ];
  /** The digest of an organisation-wide scan of both accounts. */
  const orgDigest = (): AlertDigest => ({
    account: ACCOUNT,
    toolVersion: '0.1.0',
    drift: diffScans(
      { scanId: 's1', scanTime: '2026-11-01T00:00:00.000Z', findings: [] },
      { scanId: 's2', scanTime: '2026-11-02T00:00:00.000Z', findings },
      { ...WHOLE, accounts: [ACCOUNT, MEMBER] },
    ),
  });

  it('batches per account and region, and sends a member’s through its member role', async () => {
    // Prepare
    const asked: string[] = [];
    const s = new SecurityHubSink({
      client: (region) => new SecurityHubClient({ region }),
      callerAccount: ACCOUNT,
      memberClient: async (account, region) => {
        asked.push(`${account} ${region}`);
        return new SecurityHubClient({ region });
      },
      baseDelayMs: 1,
      callsPerSecond: 1000,
    });
    hub
      .on(BatchImportFindingsCommand)
      .resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    const batches = s.plan(orgDigest());

    // Act
    const outcomes = await Promise.all(batches.map((b) => s.deliver(b)));

    // Assess
    expect(batches.map((b) => b.id)).toEqual(['us-east-1-00000', `${MEMBER}-us-east-1-00000`]);
    expect(outcomes.flatMap((o) => o.failed)).toEqual([]);
    expect(outcomes.flatMap((o) => o.delivered)).toHaveLength(3);
    expect(asked).toEqual([`${MEMBER} us-east-1`]);
    const accounts = hub
      .commandCalls(BatchImportFindingsCommand)
      .map((c) => [...new Set(c.args[0].input.Findings?.map((f) => f.AwsAccountId))]);
    expect(accounts.sort()).toEqual([[ACCOUNT], [MEMBER]]);
    const memberCall = hub
      .commandCalls(BatchImportFindingsCommand)
      .find((c) => c.args[0].input.Findings?.[0]?.AwsAccountId === MEMBER);
    expect(memberCall?.args[0].input.Findings?.[0]?.ProductArn).toBe(
      `arn:aws:securityhub:us-east-1:${MEMBER}:product/${MEMBER}/default`,
    );
  });

  it('a member role without the import statement: the outcome names the account and what to deploy', async () => {
    // Prepare
    const s = new SecurityHubSink({
      client: (region) => new SecurityHubClient({ region }),
      callerAccount: ACCOUNT,
      memberClient: async (_account, region) => new SecurityHubClient({ region }),
      baseDelayMs: 1,
      callsPerSecond: 1000,
    });
    hub.on(BatchImportFindingsCommand).rejects(
      Object.assign(
        new Error('User is not authorized to perform: securityhub:BatchImportFindings'),
        {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 },
        },
      ),
    );
    const member = s.plan(orgDigest()).find((b) => b.id.startsWith(MEMBER));

    // Act
    const outcome = await s.deliver(member!);

    // Assess
    expect(outcome.delivered).toEqual([]);
    expect(outcome.failed).toHaveLength(2);
    for (const failure of outcome.failed) {
      expect(failure.kind).toBe('permanent');
      expect(failure.reason).toMatch(
        new RegExp(
          `account ${MEMBER}: its member role may not import findings .*ImportToSecurityHub=true`,
        ),
      );
    }
  });

  it('a member role that cannot be assumed is named with what STS said', async () => {
    // Prepare
    const s = new SecurityHubSink({
      client: (region) => new SecurityHubClient({ region }),
      callerAccount: ACCOUNT,
      memberClient: async () => {
        throw Object.assign(new Error('not authorized to perform: sts:AssumeRole'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
      },
      baseDelayMs: 1,
      callsPerSecond: 1000,
    });
    const member = s.plan(orgDigest()).find((b) => b.id.startsWith(MEMBER));

    // Act
    const outcome = await s.deliver(member!);

    // Assess
    expect(hub).not.toHaveReceivedCommand(BatchImportFindingsCommand);
    expect(outcome.failed.map((f) => [f.code, f.kind])).toEqual([
      ['MemberRoleUnavailable', 'permanent'],
      ['MemberRoleUnavailable', 'permanent'],
    ]);
    expect(outcome.failed[0]?.reason).toMatch(
      new RegExp(`account ${MEMBER}: the member role could not be assumed .*AccessDenied`),
    );
  });
});

describe('aws-batch helpers', () => {
  it('clipBytes never splits a character and ends with the marker', () => {
    // Act
    const cut = clipBytes('€'.repeat(100), 50);

    // Assess
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(50);
    expect(cut.endsWith('… (truncated)')).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });

  it('CallPacer spaces call starts without waiting for calls to end', async () => {
    // Prepare
    const pacer = new CallPacer(20);
    const starts: number[] = [];

    // Act
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        await pacer.turn();
        starts.push(Date.now());
      }),
    );

    // Assess
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(gaps.every((g) => g >= 15)).toBe(true);
  });
});

describe('sinksFromSettings', () => {
  it('publishes to a topic in another region through a client of that region, and names a missing Slack URL', () => {
    // Prepare
    const regions: string[] = [];
    const settings = alertSettingsOf({
      sns: { topicArn: 'arn:aws:sns:ap-southeast-2:111122223333:alerts' },
      eventBridge: { busName: 'arn:aws:events:eu-west-1:111122223333:event-bus/security' },
    })!;

    // Act
    const sinks = sinksFromSettings(settings, {
      env: {},
      region: 'us-east-1',
      callerAccount: ACCOUNT,
      clients: {
        sns: (region) => {
          regions.push(`sns:${region}`);
          return new SNSClient({ region });
        },
        events: (region) => {
          regions.push(`events:${region}`);
          return new EventBridgeClient({ region });
        },
      },
    });
    const missing = (() => {
      try {
        return sinksFromSettings(alertSettingsOf({ slack: { webhookUrlEnv: 'TEAM_HOOK' } })!, {
          env: {},
          region: 'us-east-1',
          callerAccount: ACCOUNT,
        });
      } catch (error) {
        return error as Error;
      }
    })();
    const plainHttp = (() => {
      try {
        return sinksFromSettings(alertSettingsOf({ slack: {} })!, {
          env: { S3SCAN_SLACK_WEBHOOK_URL: 'http://hooks.example.com/x' },
          region: 'us-east-1',
          callerAccount: ACCOUNT,
        });
      } catch (error) {
        return error as Error;
      }
    })();

    // Assess
    expect(sinks.map((s) => s.name)).toEqual(['sns', 'eventbridge']);
    expect(regions).toEqual(['sns:ap-southeast-2', 'events:eu-west-1']);
    expect(String(missing)).toMatch(/TEAM_HOOK is not set/);
    expect(String(plainHttp)).toMatch(
      /must be an https:\/\/ URL \(http:\/\/ only on 127\.0\.0\.1 or localhost\)/,
    );
    expect(String(plainHttp)).not.toContain('/x');
  });
});
