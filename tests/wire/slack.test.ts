import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertDigest } from '../../lib/alerts/sink.js';
import {
  escapeMrkdwn,
  parseWebhookUrl,
  SLACK_LIMITS,
  SlackWebhookSink,
  slackMessage,
} from '../../lib/alerts/slack.js';
import { fingerprint } from '../../lib/engine/evaluate.js';
import type { Finding, Severity, Status } from '../../lib/engine/types.js';
import { AlertSinkError, ConfigError } from '../../lib/errors.js';
import { diffScans } from '../../lib/history/drift.js';

const ACCOUNT = '111122223333';

function finding(
  bucket: string,
  status: Status,
  severity: Severity = 'high',
  message = `Bucket ${bucket} fails.`,
): Finding {
  const arn = `arn:aws:s3:::${bucket}`;
  return {
    ruleId: 's3-bucket-tls-enforced',
    title: 'TLS',
    status,
    severity,
    resource: { arn, type: 'AWS::S3::Bucket', name: bucket, region: 'us-east-1', account: ACCOUNT },
    message,
    details: {},
    evidenceRef: 'e',
    fingerprint: fingerprint('s3-bucket-tls-enforced', arn),
  };
}

function digest(current: Finding[], previous: Finding[] = []): AlertDigest {
  return {
    account: ACCOUNT,
    link: 'https://dashboard.example/scans/s2',
    drift: diffScans(
      { scanId: 's1', scanTime: '2026-10-31T06:00:00.000Z', findings: previous },
      { scanId: 's2', scanTime: '2026-11-01T06:00:00.000Z', findings: current },
      { accountId: ACCOUNT, buckets: [], regions: [] },
    ),
  };
}

/** A Slack-webhook stand-in on 127.0.0.1 answering from a script, recording each request. */
interface Hook {
  url: URL;
  requests: {
    at: number;
    body: { text: string; blocks: { type: string; text?: { text: string } }[] };
  }[];
  script: ((res: ServerResponse) => void)[];
}

let server: Server;
let hook: Hook;

beforeEach(async () => {
  hook = { url: new URL('http://127.0.0.1/'), requests: [], script: [] };
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    req.on('end', () => {
      hook.requests.push({ at: Date.now(), body: JSON.parse(text) });
      const next = hook.script.shift() ?? ((r: ServerResponse) => r.writeHead(200).end('ok'));
      next(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  hook.url = new URL(`http://127.0.0.1:${port}/services/T000/B000/SECRETSECRET`);
});

afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

const sink = () => new SlackWebhookSink({ url: hook.url, spacingMs: 150, maxWaitMs: 5000 });
const reply =
  (status: number, body: string, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(status, headers).end(body);

describe('Slack incoming webhook sink (a local hook on 127.0.0.1)', () => {
  it('posts one digest with blocks and the text fallback, and Slack answers 200 ok', async () => {
    // Act
    const result = await sink().send(digest([finding('a', 'FAIL')]));

    // Assess
    expect(result).toEqual({ sink: 'slack', delivered: 1 });
    expect(hook.requests).toHaveLength(1);
    const body = hook.requests[0]!.body;
    expect(body.text).toBe(`s3scan ${ACCOUNT}: 1 new since 2026-10-31 (0 still failing)`);
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: `s3scan: ${ACCOUNT}` },
    });
    expect(JSON.stringify(body.blocks)).toContain(
      '*new* `high` a — s3-bucket-tls-enforced: Bucket a fails.',
    );
  });

  it('honours Retry-After on 429, then delivers once', async () => {
    // Prepare
    hook.script.push(reply(429, 'rate_limited', { 'retry-after': '1' }));

    // Act
    await sink().send(digest([finding('a', 'FAIL')]));

    // Assess
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests[1]!.at - hook.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('retries a 500 with backoff, and keeps to one message per spacing interval', async () => {
    // Prepare
    hook.script.push(reply(500, 'rollup_error'));
    const slack = sink();

    // Act
    await slack.send(digest([finding('a', 'FAIL')]));
    await slack.send(digest([finding('b', 'FAIL')]));

    // Assess: 500, then ok, then the second digest, each at least the spacing apart.
    expect(hook.requests).toHaveLength(3);
    const gaps = hook.requests.slice(1).map((r, i) => r.at - hook.requests[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(140);
  });

  it.each([
    [404, 'no_service'],
    [404, 'channel_not_found'],
    [410, 'channel_is_archived'],
  ])('disables a hook that answers %i %s, and says so without the URL', async (status, code) => {
    // Prepare
    hook.script.push(reply(status, code));
    const slack = sink();

    // Act
    const first = await slack.send(digest([finding('a', 'FAIL')])).catch((e: unknown) => e);
    const second = await slack.send(digest([finding('b', 'FAIL')])).catch((e: unknown) => e);

    // Assess: the second send never reaches the hook.
    expect(first).toBeInstanceOf(AlertSinkError);
    expect(first).toMatchObject({
      permanent: true,
      message: expect.stringContaining(`${status} ${code}`),
    });
    expect((first as Error).message).toMatch(/disabled until it is replaced/);
    expect(second).toBeInstanceOf(AlertSinkError);
    expect(hook.requests).toHaveLength(1);
    expect(JSON.stringify([first, second, (first as Error).message])).not.toContain('SECRETSECRET');
  });

  it('fails a 400 invalid_payload at once, as permanent', async () => {
    // Prepare
    hook.script.push(reply(400, 'invalid_payload'));

    // Act
    const error = await sink()
      .send(digest([finding('a', 'FAIL')]))
      .catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      permanent: true,
      message: 'Slack refused the message (400 invalid_payload)',
    });
    expect(hook.requests).toHaveLength(1);
  });

  it('never sends again after a connection reset once the message went out (it may have been posted)', async () => {
    // Prepare: the hook reads the whole request, then drops the connection without answering.
    hook.script.push((res) => res.socket?.destroy());

    // Act
    const error = await sink()
      .send(digest([finding('a', 'FAIL')]))
      .catch((e: unknown) => e);

    // Assess
    expect(hook.requests).toHaveLength(1);
    expect(error).toMatchObject({ permanent: false });
    expect((error as Error).message).toMatch(/it may have been posted, so it is not sent again/);
    expect((error as Error).message).not.toContain('SECRETSECRET');
  });

  it('gives up on a hook that cannot be reached, naming no URL', async () => {
    // Prepare: a connection refused: the port was ours a moment ago, and nothing listens now.
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    const slack = new SlackWebhookSink({
      url: new URL(`http://127.0.0.1:${port}/services/T000/B000/SECRETSECRET`),
      spacingMs: 10,
      maxAttempts: 2,
    });

    // Act
    const error = await slack.send(digest([finding('a', 'FAIL')])).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ permanent: false });
    expect((error as Error).message).toMatch(
      /could not be reached after 2 attempts \(ECONNREFUSED\)/,
    );
    expect((error as Error).message).not.toContain('SECRETSECRET');
  });
});

describe('slackMessage: Block Kit limits whatever the findings say', () => {
  it('stays within the limits for thousands of changes with huge hostile messages, truncating with a marker', () => {
    // Prepare
    const current = Array.from({ length: 5000 }, (_, i) =>
      finding(
        `bucket-${i}<@U123>&<!channel>`,
        'FAIL',
        i % 7 === 0 ? 'critical' : 'low',
        `${'x'.repeat(10_000)} <https://evil.example|click>`,
      ),
    );

    // Act
    const message = slackMessage(digest(current));

    // Assess
    const texts = message.blocks.flatMap((b) => {
      const block = b as { text?: { text: string }; elements?: { text: string }[] };
      return [block.text?.text ?? '', ...(block.elements ?? []).map((e) => e.text)];
    });
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(texts.join('').length + message.text.length).toBeLessThanOrEqual(
      SLACK_LIMITS.totalText + SLACK_LIMITS.sectionText,
    );
    expect(texts.some((t) => t.endsWith('… (truncated)'))).toBe(true);
    expect(texts.join('')).not.toMatch(/<@U123>|<!channel>|<https:\/\/evil/);
    expect(texts.join('')).toContain('&lt;@U123&gt;&amp;&lt;!channel&gt;');
    // The most severe changes come first.
    expect(texts[2]).toContain('`critical`');
    expect(texts.some((t) => /\d+ more changes not shown/.test(t))).toBe(true);
  });

  it('escapes mrkdwn control characters', () => {
    expect(escapeMrkdwn('a&b<c>d')).toBe('a&amp;b&lt;c&gt;d');
  });
});

describe('parseWebhookUrl', () => {
  it.each([
    ['https://hooks.slack.com/services/T/B/X', true],
    ['https://relay.example.com/slack', true],
    ['http://127.0.0.1:8080/hook', true],
    ['http://localhost/hook', true],
    ['http://hooks.slack.com/services/T/B/X', false],
    ['ftp://example.com/x', false],
    ['not a url', false],
  ])('%s is accepted: %s', (url, ok) => {
    const attempt = () => parseWebhookUrl(url, 'S3SCAN_SLACK_WEBHOOK_URL');
    if (ok) expect(attempt().href).toBe(new URL(url).href);
    else expect(attempt).toThrow(ConfigError);
  });

  it('names the setting, never the URL, when it refuses one', () => {
    expect(() =>
      parseWebhookUrl('http://hooks.slack.com/services/T/B/SECRET', 'S3SCAN_SLACK_WEBHOOK_URL'),
    ).toThrow(
      /^S3SCAN_SLACK_WEBHOOK_URL must be an https:\/\/ URL \(http:\/\/ only on 127\.0\.0\.1 or localhost\), not http:\/\/hooks\.slack\.com$/,
    );
  });
});
