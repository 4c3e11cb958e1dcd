/**
 * CloudTrail management events that change a bucket's or a key's encryption posture, read
 * from what arrives: a CloudTrail record, an EventBridge envelope around one ("AWS API Call
 * via CloudTrail", or KMS's own "KMS CMK Deletion"), an SQS batch of envelopes, or a
 * CloudTrail log file (`{"Records": [...]}`). Pure: the event only says *what* to re-read; the
 * rescan re-reads the live state and never trusts the payload (events arrive out of order).
 * Facts: ../shared/reference/alerts-orgs-dashboard.md §B.1–B.2.
 */

/** S3 calls that change a bucket's posture (the S3 rule's eventName list). */
export const S3_POSTURE_EVENTS = [
  'CreateBucket',
  'DeleteBucket',
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'PutBucketVersioning',
] as const;

/** KMS calls that change whether a key can protect a bucket's objects. */
export const KMS_POSTURE_EVENTS = [
  'DisableKey',
  'EnableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'PutKeyPolicy',
] as const;

/** KMS's own event when a key is really deleted at the end of its waiting period. */
export const KMS_DELETION_DETAIL_TYPE = 'KMS CMK Deletion';

/** A change to re-read: a bucket, or a key (whose buckets the latest report names). */
export type PostureChange =
  | {
      target: 'bucket';
      account: string;
      region: string;
      bucket: string;
      eventName: string;
      eventTime: string;
    }
  | {
      target: 'key';
      account: string;
      region: string;
      keyArn: string;
      eventName: string;
      eventTime: string;
    };

/** An event that was read and set aside, and why (counted, never a crash). */
export interface DroppedEvent {
  reason: 'unknown-operation' | 'failed-call' | 'own-principal' | 'no-resource' | 'not-an-event';
  eventName?: string;
  detail: string;
}

/** One message of an SQS batch: its id, and the changes or the error that made it unreadable. */
export interface ReadMessage {
  messageId?: string;
  changes: PostureChange[];
  dropped: DroppedEvent[];
  /** Set when the message is not JSON or not any event shape: a poison message. */
  malformed?: string;
}

/** How to read events. */
export interface ReadOptions {
  /**
   * Role sessions whose calls are s3scan's own (`s3scan-<scanId>`): ignored, so a scan never
   * triggers a rescan of itself.
   */
  ownSessionPrefixes?: readonly string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

const S3_EVENTS = new Set<string>(S3_POSTURE_EVENTS);
const KMS_EVENTS = new Set<string>(KMS_POSTURE_EVENTS);
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const KEY_ID = /^(mrk-)?[0-9a-f-]{32,40}$/i;
const ACCOUNT = /^\d{12}$/;

/** Characters and length any S3 bucket name has (general purpose, legacy, directory). */
const BUCKET_NAME = /^[A-Za-z0-9._-]{3,255}$/;

/** The session name of a role-assumed caller, from `userIdentity.arn`. */
function sessionOf(identity: unknown): string | undefined {
  const arn = isObject(identity) ? text(identity.arn) : undefined;
  const match = arn ? /:assumed-role\/[^/]+\/(.+)$/.exec(arn) : null;
  return match?.[1];
}

/** The key of a KMS record: the resources' ARN, else an ARN in the response or request. */
function keyOf(record: Json, account: string, region: string): string | undefined {
  const resources = Array.isArray(record.resources) ? record.resources : [];
  for (const r of resources) {
    const arn = isObject(r) ? (text(r.ARN) ?? text(r.arn)) : undefined;
    if (arn && KEY_ARN.test(arn)) return arn;
  }
  const response = isObject(record.responseElements) ? record.responseElements : {};
  const request = isObject(record.requestParameters) ? record.requestParameters : {};
  for (const candidate of [text(response.keyId), text(request.keyId)]) {
    if (!candidate) continue;
    if (KEY_ARN.test(candidate)) return candidate;
    // A bare key id is the caller's own account's key in the call's region.
    if (KEY_ID.test(candidate)) return `arn:aws:kms:${region}:${account}:key/${candidate}`;
  }
  return undefined;
}

/** One CloudTrail record (the `detail` of an "AWS API Call via CloudTrail" envelope). */
function readRecord(
  record: Json,
  envelope: { account?: string; region?: string },
  options: ReadOptions,
): { change?: PostureChange; dropped?: DroppedEvent } {
  const eventName = text(record.eventName);
  const eventSource = text(record.eventSource);
  if (!eventName || !eventSource)
    return {
      dropped: { reason: 'not-an-event', detail: 'a record without eventName and eventSource' },
    };
  const isS3 = eventSource === 's3.amazonaws.com' && S3_EVENTS.has(eventName);
  const isKms = eventSource === 'kms.amazonaws.com' && KMS_EVENTS.has(eventName);
  if (!isS3 && !isKms)
    return {
      dropped: {
        reason: 'unknown-operation',
        eventName,
        detail: `${eventSource} ${eventName} does not change encryption posture`,
      },
    };
  if (record.errorCode !== undefined)
    return {
      dropped: {
        reason: 'failed-call',
        eventName,
        detail: `the call failed (${String(record.errorCode)}): nothing changed`,
      },
    };
  const session = sessionOf(record.userIdentity);
  if (session && (options.ownSessionPrefixes ?? ['s3scan-']).some((p) => session.startsWith(p)))
    return {
      dropped: { reason: 'own-principal', eventName, detail: `s3scan's own session ${session}` },
    };
  const account = text(record.recipientAccountId) ?? envelope.account;
  const region = text(record.awsRegion) ?? envelope.region;
  const eventTime = text(record.eventTime) ?? '';
  if (!account || !ACCOUNT.test(account) || !region)
    return {
      dropped: {
        reason: 'no-resource',
        eventName,
        detail: 'no recipientAccountId and awsRegion',
      },
    };
  if (isS3) {
    const request = isObject(record.requestParameters) ? record.requestParameters : {};
    const bucket = text(request.bucketName);
    if (!bucket)
      return {
        dropped: { reason: 'no-resource', eventName, detail: 'no requestParameters.bucketName' },
      };
    // What any S3 bucket name may hold (legacy us-east-1 names add capitals and underscores):
    // a name with a newline or an escape sequence is no bucket, and is never echoed raw.
    if (!BUCKET_NAME.test(bucket))
      return {
        dropped: {
          reason: 'no-resource',
          eventName,
          detail: `requestParameters.bucketName ${JSON.stringify(bucket.slice(0, 80))} is not a bucket name`,
        },
      };
    return { change: { target: 'bucket', account, region, bucket, eventName, eventTime } };
  }
  const keyArn = keyOf(record, account, region);
  if (!keyArn)
    return { dropped: { reason: 'no-resource', eventName, detail: 'no key ARN or key id' } };
  return { change: { target: 'key', account, region, keyArn, eventName, eventTime } };
}

/** One EventBridge envelope, or a bare CloudTrail record. */
function readEvent(
  event: Json,
  options: ReadOptions,
): { changes: PostureChange[]; dropped: DroppedEvent[] } {
  const out = { changes: [] as PostureChange[], dropped: [] as DroppedEvent[] };
  const add = (r: { change?: PostureChange; dropped?: DroppedEvent }) => {
    if (r.change) out.changes.push(r.change);
    if (r.dropped) out.dropped.push(r.dropped);
  };
  const detailType = text(event['detail-type']);
  if (detailType !== undefined) {
    const envelope = {
      ...(text(event.account) ? { account: text(event.account)! } : {}),
      ...(text(event.region) ? { region: text(event.region)! } : {}),
    };
    if (detailType === 'AWS API Call via CloudTrail' && isObject(event.detail))
      add(readRecord(event.detail, envelope, options));
    else if (detailType === KMS_DELETION_DETAIL_TYPE) {
      const resources = Array.isArray(event.resources) ? event.resources : [];
      const keyArn = resources.map(text).find((r) => r && KEY_ARN.test(r));
      if (keyArn && envelope.account && envelope.region)
        out.changes.push({
          target: 'key',
          account: envelope.account,
          region: envelope.region,
          keyArn,
          eventName: 'KeyDeleted',
          eventTime: text(event.time) ?? '',
        });
      else
        out.dropped.push({
          reason: 'no-resource',
          eventName: 'KeyDeleted',
          detail: 'a KMS CMK Deletion event without the key ARN in resources',
        });
    } else
      out.dropped.push({
        reason: 'unknown-operation',
        detail: `EventBridge detail-type ${JSON.stringify(detailType)} is not a posture change`,
      });
    return out;
  }
  if (text(event.eventSource) && text(event.eventName)) add(readRecord(event, {}, options));
  else
    out.dropped.push({
      reason: 'not-an-event',
      detail: 'neither an EventBridge envelope nor a CloudTrail record',
    });
  return out;
}

/**
 * Reads whatever arrived into messages: an SQS batch gives one message per record (a body
 * that is not JSON, or no event at all, is `malformed`: a poison message for the dead-letter
 * queue); any other input is one message. Unknown operations, failed calls and s3scan's own
 * calls are dropped and counted, never an error.
 */
export function readEvents(input: unknown, options: ReadOptions = {}): ReadMessage[] {
  if (isObject(input) && Array.isArray(input.Records)) {
    const records = input.Records as unknown[];
    const sqs = records.some((r) => isObject(r) && r.eventSource === 'aws:sqs');
    if (sqs)
      return records.map((record) => {
        const messageId = isObject(record) ? text(record.messageId) : undefined;
        const base = { ...(messageId ? { messageId } : {}), changes: [], dropped: [] };
        const body = isObject(record) ? record.body : undefined;
        if (typeof body !== 'string') return { ...base, malformed: 'the SQS record has no body' };
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch (error) {
          return { ...base, malformed: `the body is not JSON: ${(error as Error).message}` };
        }
        if (!isObject(parsed)) return { ...base, malformed: 'the body is not a JSON object' };
        const read = readEvent(parsed, options);
        if (read.changes.length === 0 && read.dropped.some((d) => d.reason === 'not-an-event'))
          return { ...base, ...read, malformed: read.dropped[0]!.detail };
        return { ...base, ...read };
      });
    // A CloudTrail log file: its records, as one message.
    const message: ReadMessage = { changes: [], dropped: [] };
    for (const record of records) {
      if (!isObject(record)) {
        message.dropped.push({ reason: 'not-an-event', detail: 'a record that is not an object' });
        continue;
      }
      const read = readEvent(record, options);
      message.changes.push(...read.changes);
      message.dropped.push(...read.dropped);
    }
    return [message];
  }
  if (!isObject(input))
    return [{ changes: [], dropped: [], malformed: 'the event is not a JSON object' }];
  const read = readEvent(input, options);
  if (read.changes.length === 0 && read.dropped.some((d) => d.reason === 'not-an-event'))
    return [{ ...read, malformed: read.dropped[0]!.detail }];
  return [read];
}

/** What a batch asks to re-read: each bucket once, each key once, per account. */
export interface RescanTargets {
  buckets: { account: string; region: string; bucket: string; events: string[] }[];
  keys: { account: string; region: string; keyArn: string; events: string[] }[];
}

/**
 * A burst of events coalesced: one target per (account, bucket) and per key ARN, whatever
 * the number of events about it, with the event names that asked (in arrival order, once).
 */
export function coalesce(changes: readonly PostureChange[]): RescanTargets {
  const buckets = new Map<string, RescanTargets['buckets'][number]>();
  const keys = new Map<string, RescanTargets['keys'][number]>();
  for (const change of changes) {
    if (change.target === 'bucket') {
      const id = `${change.account}/${change.bucket}`;
      const entry = buckets.get(id) ?? {
        account: change.account,
        region: change.region,
        bucket: change.bucket,
        events: [],
      };
      if (!entry.events.includes(change.eventName)) entry.events.push(change.eventName);
      buckets.set(id, entry);
    } else {
      const entry = keys.get(change.keyArn) ?? {
        account: change.account,
        region: change.region,
        keyArn: change.keyArn,
        events: [],
      };
      if (!entry.events.includes(change.eventName)) entry.events.push(change.eventName);
      keys.set(change.keyArn, entry);
    }
  }
  const byId =
    <T extends { account: string }>(key: (t: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  return {
    buckets: [...buckets.values()].sort(byId((b) => `${b.account}/${b.bucket}`)),
    keys: [...keys.values()].sort(byId((k) => k.keyArn)),
  };
}
