import { describe, expect, it } from 'vitest';
import { configFromText } from '../../../lib/config/config.js';

const load = (text: string) =>
  configFromText(text, {
    json: false,
    describe: 'config file c.yml',
    provenance: { origin: 'file' },
  });

describe('Config: the alerts: section', () => {
  it('takes the documented shape and fills in the defaults', () => {
    // Act
    const config = load(
      [
        'alerts:',
        '  minSeverity: medium',
        '  slack: {}',
        '  sns: { topicArn: arn:aws:sns:us-east-1:111122223333:s3scan-alerts }',
        '  eventBridge: { busName: default }',
        '  securityHub: {}',
      ].join('\n'),
    );

    // Assess
    expect(config.alerts).toMatchObject({
      minSeverity: 'medium',
      changes: ['new', 'regressed', 'unverifiable', 'resolved', 'gone'],
      digestSize: 20,
      baseline: 'quiet',
      expiringSuppressionDays: 7,
      slack: { webhookUrlEnv: 'S3SCAN_SLACK_WEBHOOK_URL' },
      sns: { topicArn: 'arn:aws:sns:us-east-1:111122223333:s3scan-alerts', perFinding: false },
      eventBridge: { busName: 'default' },
      securityHub: { reimportDays: 30 },
    });
  });

  it('no alerts: section, no alerts', () => {
    expect(load('tls: { minVersion: "1.2" }').alerts).toBeUndefined();
  });

  it('names every wrong field: a bad topic ARN, an unknown change kind, a URL in the config, a rule that does not exist', () => {
    // Act
    const error = (() => {
      try {
        return load(
          [
            'alerts:',
            '  changes: [new, worse]',
            '  slack: { url: "https://hooks.slack.com/services/T/B/X" }',
            '  sns: { topicArn: "arn:aws:sqs:us-east-1:111122223333:q" }',
            '  securityHub: { rules: [no-such-rule], reimportDays: 120 }',
          ].join('\n'),
        );
      } catch (e) {
        return e as Error;
      }
    })();

    // Assess
    const message = String((error as Error).message);
    expect(message).toMatch(/alerts\.changes\[1\]/);
    expect(message).toMatch(/alerts\.slack.*url/);
    expect(message).toMatch(/alerts\.sns\.topicArn/);
    expect(message).toMatch(/alerts\.securityHub\.rules\[0\]/);
    expect(message).toMatch(/alerts\.securityHub\.reimportDays/);
  });

  it('refuses a FIFO topic (every message would need a group id)', () => {
    expect(() =>
      load('alerts:\n  sns: { topicArn: "arn:aws:sns:us-east-1:111122223333:a.fifo" }'),
    ).toThrow(/alerts\.sns\.topicArn/);
  });
});
