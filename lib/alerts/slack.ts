import { setTimeout as sleep } from 'node:timers/promises';
import type { Finding } from '../engine/types.js';
import { AlertSinkError, ConfigError } from '../errors.js';
import { type ChangeKind, type DriftEntry, describeDrift } from '../history/drift.js';
import { findingOf, type SelectedChange, selectChanges } from './select.js';
import type {
  AlertBatch,
  AlertDigest,
  AlertEntry,
  AlertSink,
  BatchOutcome,
  SinkResult,
} from './sink.js';
import { filterOf } from './sink.js';

/** Block Kit limits (alerts-orgs-dashboard.md A.5), with room under the undocumented ~12k total. */
export const SLACK_LIMITS = {
  blocks: 40,
  sectionText: 3000,
  headerText: 150,
  totalText: 8000,
} as const;

const TRUNCATED = '… (truncated)';

/**
 * A webhook URL s3scan may post to: any `https://` URL (Slack-compatible relays exist), and
 * `http://` only to this machine (tests, local relays). The message never repeats the URL.
 */
export function parseWebhookUrl(value: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${source} is not a URL`);
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && local)) return url;
  throw new ConfigError(
    `${source} must be an https:// URL (http:// only on 127.0.0.1 or localhost), not ${url.protocol}//${url.hostname}`,
  );
}

/** Text for Slack mrkdwn: `&`, `<` and `>` escaped, so a bucket name cannot make a link or mention. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - TRUNCATED.length)}${TRUNCATED}`;
}

function line(kind: ChangeKind, entry: DriftEntry): string {
  const f = findingOf(entry);
  const was = entry.previous && entry.current ? ` (was ${entry.previous.status})` : '';
  return `• *${kind}* \`${f.severity}\` ${escapeMrkdwn(f.resource.name)} — ${escapeMrkdwn(f.ruleId)}: ${escapeMrkdwn(f.message)}${was}`;
}

/** An expiring suppression, listed like a change. */
function expiringEntry(finding: Finding): DriftEntry {
  return { kind: 'suppressed', fingerprint: finding.fingerprint, current: finding, lastSeen: '' };
}

function expiringLine(entry: DriftEntry): string {
  const f = findingOf(entry);
  return `• *suppression expiring ${escapeMrkdwn(f.suppression?.expires ?? '')}* \`${f.severity}\` ${escapeMrkdwn(f.resource.name)} — ${escapeMrkdwn(f.ruleId)}: ${escapeMrkdwn(f.suppression?.reason ?? '')}`;
}

/**
 * The digest of one scan as a Slack message: a header, the counts, up to `top` changes by
 * kind and severity, the link, and a `text` fallback. Every limit holds whatever the findings
 * say: long text is truncated with a marker, never rejected.
 */
export function slackMessage(
  digest: AlertDigest,
  top = 20,
  selected: SelectedChange[] = selectChanges(
    digest.drift,
    filterOf(digest.settings, digest.settings?.slack),
  ),
): { text: string; blocks: object[] } {
  const { drift } = digest;
  const summary = digest.baseline
    ? `baseline: first scan of this scope, ${drift.counts['still-failing'] + drift.counts.new} failing finding(s) recorded; changes are alerted from the next scan`
    : describeDrift(drift);
  const text = clip(`s3scan ${digest.account}: ${summary}`, SLACK_LIMITS.sectionText);
  const blocks: object[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: clip(`s3scan: ${digest.account}`, SLACK_LIMITS.headerText),
      },
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(escapeMrkdwn(summary), SLACK_LIMITS.sectionText) },
    },
  ];
  let budget = SLACK_LIMITS.totalText - text.length - summary.length;
  const entries: { kind: ChangeKind | 'suppression expiring'; entry: DriftEntry }[] = [
    ...(digest.baseline ? [] : selected),
    ...(digest.expiring ?? []).map((finding) => ({
      kind: 'suppression expiring' as const,
      entry: expiringEntry(finding),
    })),
  ];
  let shown = 0;
  // One line a change, a section a change: a hostile message costs one block, not the digest.
  const room = SLACK_LIMITS.blocks - blocks.length - 2;
  for (const { kind, entry } of entries) {
    if (shown >= top || shown >= room) break;
    const body = clip(
      kind === 'suppression expiring' ? expiringLine(entry) : line(kind, entry),
      Math.min(SLACK_LIMITS.sectionText, 600),
    );
    if (body.length > budget) break;
    budget -= body.length;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: body } });
    shown += 1;
  }
  const more = entries.length - shown;
  const context = [
    ...(more > 0 ? [`${more} more change${more === 1 ? '' : 's'} not shown`] : []),
    `${drift.from.scanId} → ${drift.to.scanId}`,
    ...(digest.cause ? [digest.cause] : []),
  ];
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: escapeMrkdwn(context.join(' · ')) }],
  });
  if (digest.link)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`<${digest.link}|Open the report>`, SLACK_LIMITS.sectionText),
      },
    });
  return { text, blocks };
}

/** Failures before any byte of the request left: retrying cannot post a message twice. */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** How a webhook answer is handled (alerts-orgs-dashboard.md A.5). */
type Answer =
  | { kind: 'ok' }
  | { kind: 'wait'; ms: number }
  | { kind: 'retry' }
  | { kind: 'fail'; permanent: boolean; reason: string };

function judge(status: number, body: string, retryAfter: string | null): Answer {
  if (status === 200) return { kind: 'ok' };
  if (status === 429) {
    const seconds = Number(retryAfter);
    return { kind: 'wait', ms: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000 };
  }
  if (status >= 500) return { kind: 'retry' };
  const code = body.trim().slice(0, 100) || `HTTP ${status}`;
  if (status === 404 || status === 410)
    return {
      kind: 'fail',
      permanent: true,
      reason: `the webhook is gone (${status} ${code}): it was revoked, or its channel removed or archived; the hook is disabled until it is replaced`,
    };
  return { kind: 'fail', permanent: true, reason: `Slack refused the message (${status} ${code})` };
}

/**
 * A Slack incoming webhook: one digest per scan, at most one message per second, 429's
 * `Retry-After` honoured, 5xx retried with backoff, a 404/410 hook disabled with a clear
 * error. The URL is a secret: it is never logged, never put in an error or a report.
 */
export class SlackWebhookSink implements AlertSink<{ text: string; blocks: object[] }> {
  public readonly name = 'slack';
  public readonly idempotent = false;
  private disabled: string | undefined;
  private lastSent = 0;

  public constructor(
    private readonly options: {
      url: URL;
      /** Changes listed in the digest. */
      top?: number;
      /** Attempts per message, 429 waits included. */
      maxAttempts?: number;
      /** Longest Retry-After s3scan waits for; longer fails, so a scan never hangs on Slack. */
      maxWaitMs?: number;
      /** Tests shorten the one-message-per-second spacing and the backoff. */
      spacingMs?: number;
      timeoutMs?: number;
    },
  ) {}

  /**
   * One post per scan: the digest, when there is something to say (a change that passes the
   * filter, an expiring suppression, or the baseline of a new scope).
   */
  public plan(digest: AlertDigest): AlertBatch<{ text: string; blocks: object[] }>[] {
    const selected = selectChanges(digest.drift, filterOf(digest.settings, digest.settings?.slack));
    if (!digest.baseline && selected.length === 0 && (digest.expiring ?? []).length === 0)
      return [];
    const payload = slackMessage(digest, this.options.top ?? digest.settings?.digestSize, selected);
    return [{ id: 'digest', entries: [{ id: 'digest', payload }] }];
  }

  public preview(entry: AlertEntry<{ text: string }>): string {
    return `slack message: ${entry.payload.text}`;
  }

  public async deliver(
    batch: AlertBatch<{ text: string; blocks: object[] }>,
    signal?: AbortSignal,
  ): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { delivered: [], failed: [] };
    for (const entry of batch.entries) {
      try {
        await this.post(JSON.stringify(entry.payload), signal);
        outcome.delivered.push(entry.id);
      } catch (error) {
        if (!(error instanceof AlertSinkError)) throw error;
        outcome.failed.push({
          id: entry.id,
          code: error.code,
          reason: error.message,
          kind:
            error.code === 'maybe-posted' ? 'in-doubt' : error.permanent ? 'permanent' : 'retry',
        });
      }
    }
    return outcome;
  }

  /** Posts a digest now, throwing {@link AlertSinkError} when it was not posted. */
  public async send(digest: AlertDigest, signal?: AbortSignal): Promise<SinkResult> {
    const [batch] = this.plan({ ...digest, baseline: digest.baseline ?? false });
    const payload = batch?.entries[0]?.payload ?? slackMessage(digest, this.options.top);
    await this.post(JSON.stringify(payload), signal);
    return { sink: this.name, delivered: 1 };
  }

  private async post(body: string, signal?: AbortSignal): Promise<void> {
    if (this.disabled) throw new AlertSinkError(this.name, this.disabled, true, 'disabled');
    const attempts = this.options.maxAttempts ?? 5;
    const spacing = this.options.spacingMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      // At most one message per second to one hook.
      const wait = this.lastSent + spacing - Date.now();
      if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
      let answer: Answer;
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: signal
            ? AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)])
            : AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        answer = judge(response.status, await response.text(), response.headers.get('retry-after'));
        // Spaced from the answer, not from the send: a request slow to leave (a new
        // connection) must not arrive closer than the spacing to the next one.
        this.lastSent = Date.now();
      } catch (error) {
        this.lastSent = Date.now();
        if (signal?.aborted) throw error;
        // Say what, never where (the URL is the secret). Only a connection that never opened
        // is safe to retry: after a reset or a timeout Slack may have posted the message, and
        // a webhook has no idempotency key, so sending again could post it twice.
        const code = String((error as { cause?: { code?: unknown } }).cause?.code ?? '');
        if (!NEVER_SENT.has(code))
          throw new AlertSinkError(
            this.name,
            `the webhook connection failed after the message was sent (${code || (error as Error).name}); it may have been posted, so it is not sent again`,
            false,
            'maybe-posted',
          );
        answer = { kind: 'retry' };
        if (attempt >= attempts)
          throw new AlertSinkError(
            this.name,
            `the webhook could not be reached after ${attempts} attempts (${code})`,
            false,
          );
      }
      if (answer.kind === 'ok') return;
      if (answer.kind === 'fail') {
        if (answer.permanent && /gone/.test(answer.reason)) this.disabled = answer.reason;
        throw new AlertSinkError(this.name, answer.reason, answer.permanent);
      }
      if (attempt >= attempts)
        throw new AlertSinkError(
          this.name,
          `Slack still refused after ${attempts} attempts (rate limited or failing)`,
          false,
        );
      if (answer.kind === 'wait') {
        if (answer.ms > (this.options.maxWaitMs ?? 60_000))
          throw new AlertSinkError(
            this.name,
            `Slack asked to wait ${answer.ms / 1000} s (Retry-After); not waiting that long`,
            false,
          );
        await sleep(answer.ms, undefined, signal ? { signal } : {});
      } else await sleep(spacing * 2 ** (attempt - 1), undefined, signal ? { signal } : {});
    }
  }
}
