import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertSettingsOf } from '../../lib/alerts/settings.js';
import { sinksFromSettings } from '../../lib/alerts/sinks.js';
import { diffScans } from '../../lib/history/drift.js';
import { ACCOUNT, finding } from '../helpers/findings.js';

/**
 * The sinks as the CLI and the stack build them (real SDK clients, real HTTP on 127.0.0.1):
 * a connection cut after the request arrived must not be sent again by anyone, the SDK
 * included, while a throttled answer is.
 */
describe('SNS and EventBridge sinks on the wire: never sent twice', () => {
  let server: Server;
  let requests: string[];
  let answer: 'reset' | 'throttle-then-ok';
  const saved = { ...process.env };

  beforeEach(async () => {
    requests = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        requests.push(body);
        if (answer === 'reset') return req.socket.destroy();
        if (requests.length === 1) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          return res.end(
            JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }),
          );
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  });
  afterEach(() => {
    server.close();
    process.env = { ...saved };
  });

  const digest = {
    account: ACCOUNT,
    drift: diffScans(
      { scanId: 's1', scanTime: '2026-10-31T06:00:00.000Z', findings: [] },
      { scanId: 's2', scanTime: '2026-11-01T06:00:00.000Z', findings: [finding('r', 'b', 'FAIL')] },
      { accountId: ACCOUNT, buckets: [], regions: [] },
    ),
  };

  it.each(['sns', 'eventBridge'] as const)(
    '%s: a connection reset after the request arrived is one request, reported in doubt',
    async (kind) => {
      // Prepare
      answer = 'reset';
      const settings = alertSettingsOf(
        kind === 'sns'
          ? { sns: { topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:alerts` } }
          : { eventBridge: {} },
      )!;
      const [sink] = sinksFromSettings(settings, {
        env: {},
        region: 'us-east-1',
        callerAccount: ACCOUNT,
        fast: true,
      });
      const [batch] = sink!.plan({ ...digest, settings });

      // Act
      const outcome = await sink!.deliver(batch!);

      // Assess
      expect(requests).toHaveLength(1);
      expect(outcome.delivered).toEqual([]);
      expect(outcome.failed.map((f) => f.kind)).toEqual(batch!.entries.map(() => 'in-doubt'));
    },
  );

  it('eventBridge: a throttled call is sent again and then delivered', async () => {
    // Prepare
    answer = 'throttle-then-ok';
    const settings = alertSettingsOf({ eventBridge: {}, baseline: 'quiet' })!;
    const [sink] = sinksFromSettings(settings, {
      env: {},
      region: 'us-east-1',
      callerAccount: ACCOUNT,
      fast: true,
    });
    const [batch] = sink!.plan({ ...digest, settings, baseline: true });

    // Act
    const outcome = await sink!.deliver(batch!);

    // Assess
    expect(requests).toHaveLength(2);
    expect(outcome).toEqual({ delivered: ['scan-completed'], failed: [] });
  });
});
