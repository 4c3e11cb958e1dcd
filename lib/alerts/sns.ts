import {
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { ConfigError } from '../errors.js';
import { describeDrift } from '../history/drift.js';
import { bytes, type CallAnswer, clipBytes, pack, withEntryRetries } from './aws-batch.js';
import { findingOf, type SelectedChange, selectChanges } from './select.js';
import {
  type AlertBatch,
  type AlertDigest,
  type AlertEntry,
  type AlertSink,
  type BatchOutcome,
  filterOf,
} from './sink.js';

/** SNS limits (alerts-orgs-dashboard.md A.1): bytes, message attributes included. */
export const SNS_LIMITS = {
  messageBytes: 262_144,
  batchEntries: 10,
  subjectChars: 99,
  /** Raw-delivery SQS subscriptions drop a message with more than 10 attributes. */
  attributes: 10,
} as const;

/** One SNS message, as PublishBatch takes it. */
export interface SnsMessage {
  subject: string;
  message: string;
  attributes: Record<string, MessageAttributeValue>;
}

/** The region of an SNS topic ARN; SNS publishes only to topics in the client's region. */
export function topicRegion(topicArn: string): string {
  const region = topicArn.split(':')[3];
  if (!region || !/^arn:aws[a-z-]*:sns:/.test(topicArn))
    throw new ConfigError(`alerts.sns.topicArn ${topicArn} is not an SNS topic ARN`);
  return region;
}

const attribute = (value: string): MessageAttributeValue => ({
  DataType: 'String',
  StringValue: value,
});

function attributesBytes(attributes: Record<string, MessageAttributeValue>): number {
  let n = 0;
  for (const [name, value] of Object.entries(attributes))
    n += bytes(name) + bytes(value.DataType ?? '') + bytes(value.StringValue ?? '');
  return n;
}

/** Subjects must be under 100 characters, with no line breaks or control characters. */
function subject(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what SNS refuses
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length <= SNS_LIMITS.subjectChars
    ? clean
    : `${clean.slice(0, SNS_LIMITS.subjectChars - 1)}…`;
}

/** A message that fits 256 KB with its attributes: the body is cut with a marker, never refused. */
function fitted(message: SnsMessage): SnsMessage {
  const room = SNS_LIMITS.messageBytes - attributesBytes(message.attributes) - 64;
  return { ...message, message: clipBytes(message.message, room) };
}

const size = (entry: AlertEntry<SnsMessage>) =>
  bytes(entry.payload.message) + attributesBytes(entry.payload.attributes);

/** The digest as readable text (email subscribers read it), top changes first. */
function digestText(digest: AlertDigest, selected: SelectedChange[]): string {
  const { drift } = digest;
  const top = digest.settings?.digestSize ?? 20;
  const lines = [
    `s3scan ${digest.account}: ${digest.baseline ? 'baseline scan (nothing to compare with)' : describeDrift(drift)}`,
    `Scans: ${drift.from.scanId} -> ${drift.to.scanId}`,
    ...(digest.cause ? [`Cause: ${digest.cause}`] : []),
    '',
  ];
  if (!digest.baseline)
    for (const { kind, entry } of selected.slice(0, top)) {
      const f = findingOf(entry);
      lines.push(
        `- ${kind} [${f.severity}] ${f.resource.name} ${f.ruleId}: ${f.message}${entry.previous && entry.current ? ` (was ${entry.previous.status})` : ''}`,
      );
    }
  if (!digest.baseline && selected.length > top)
    lines.push(`… and ${selected.length - top} more change(s)`);
  for (const f of digest.expiring ?? [])
    lines.push(
      `- suppression expiring ${f.suppression?.expires} [${f.severity}] ${f.resource.name} ${f.ruleId}: ${f.suppression?.reason}`,
    );
  if (digest.link) lines.push('', `Report: ${digest.link}`);
  return lines.join('\n');
}

/** One change as JSON, for machine subscribers; attributes let subscription filters route it. */
function changeMessage(digest: AlertDigest, { kind, entry }: SelectedChange): SnsMessage {
  const f = findingOf(entry);
  const body = {
    type: 's3scan.finding-changed',
    change: kind,
    scanId: digest.drift.to.scanId,
    previousScanId: digest.drift.from.scanId,
    previousStatus: entry.previous?.status ?? null,
    ...(entry.firstSeen ? { firstSeen: entry.firstSeen } : {}),
    lastSeen: entry.lastSeen,
    finding: f,
  };
  let message = JSON.stringify(body);
  // Too big (a huge policy in details): the details go first, then the message is cut.
  if (bytes(message) > SNS_LIMITS.messageBytes - 2048)
    message = JSON.stringify({
      ...body,
      finding: { ...f, details: { truncated: true } },
      truncated: true,
    });
  return fitted({
    subject: subject(`s3scan ${kind}: ${f.resource.name} ${f.ruleId}`),
    message,
    attributes: {
      's3scan.type': attribute('finding-changed'),
      change: attribute(kind),
      severity: attribute(f.severity),
      rule: attribute(f.ruleId),
      account: attribute(f.resource.account),
      bucket: attribute(f.resource.name),
      region: attribute(f.resource.region),
    },
  });
}

/**
 * The stack's SNS topic: one digest per scan (readable text), and with `perFinding` one JSON
 * message per change with attributes (severity, rule, account, bucket, change, region) for
 * subscription filter policies. Sent with PublishBatch: 10 entries and 256 KB per call, the
 * entries SNS refused without a sender fault sent again, the rest reported.
 */
export class SnsSink implements AlertSink<SnsMessage> {
  public readonly name = 'sns';
  public readonly idempotent = false;

  public constructor(
    private readonly options: {
      sns: SNSClient;
      topicArn: string;
      perFinding: boolean;
      baseDelayMs?: number;
    },
  ) {
    topicRegion(options.topicArn);
  }

  public plan(digest: AlertDigest): AlertBatch<SnsMessage>[] {
    const selected = selectChanges(digest.drift, filterOf(digest.settings, digest.settings?.sns));
    const quiet = digest.baseline && digest.settings?.baseline !== 'send';
    if (!digest.baseline && selected.length === 0 && (digest.expiring ?? []).length === 0)
      return [];
    const entries: AlertEntry<SnsMessage>[] = [
      {
        id: 'digest',
        payload: fitted({
          subject: subject(
            `s3scan ${digest.account}: ${digest.baseline ? 'baseline scan' : describeDrift(digest.drift)}`,
          ),
          message: digestText(digest, selected),
          attributes: {
            's3scan.type': attribute('digest'),
            account: attribute(digest.drift.scope.accountId),
          },
        }),
      },
    ];
    if (this.options.perFinding && !quiet)
      for (const change of selected)
        entries.push({
          id: `${change.kind}-${change.entry.fingerprint}`,
          payload: changeMessage(digest, change),
        });
    return pack(entries, size, {
      maxEntries: SNS_LIMITS.batchEntries,
      maxBytes: SNS_LIMITS.messageBytes,
    }).map((batch, i) => ({
      id: `batch-${String(i).padStart(4, '0')}`,
      entries: batch,
    }));
  }

  public preview(entry: AlertEntry<SnsMessage>): string {
    return `sns ${this.options.topicArn}: ${entry.payload.subject}`;
  }

  public deliver(batch: AlertBatch<SnsMessage>, signal?: AbortSignal): Promise<BatchOutcome> {
    return withEntryRetries(
      batch.entries,
      async (entries): Promise<CallAnswer> => {
        // PublishBatch entry ids: at most 80 of [A-Za-z0-9_-], unique in the request.
        const ids = new Map(entries.map((e, i) => [`e${i}`, e.id]));
        const out = await this.options.sns.send(
          new PublishBatchCommand({
            TopicArn: this.options.topicArn,
            PublishBatchRequestEntries: entries.map(
              (e, i): PublishBatchRequestEntry => ({
                Id: `e${i}`,
                Subject: e.payload.subject,
                Message: e.payload.message,
                MessageAttributes: e.payload.attributes,
              }),
            ),
          }),
          signal ? { abortSignal: signal } : {},
        );
        return {
          delivered: (out.Successful ?? []).map((s) => ids.get(s.Id ?? '') ?? ''),
          failed: (out.Failed ?? []).map((f) => ({
            id: ids.get(f.Id ?? '') ?? '',
            code: f.Code ?? 'Unknown',
            reason: `${f.Code}: ${f.Message ?? ''}`,
            // SenderFault: the request was wrong and will be wrong again.
            kind: f.SenderFault ? 'permanent' : 'retry',
          })),
        };
      },
      {
        signal,
        baseDelayMs: this.options.baseDelayMs,
      },
    );
  }
}
