import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  KMS_DELETION_DETAIL_TYPE,
  KMS_POSTURE_EVENTS,
  S3_POSTURE_EVENTS,
} from '../../lib/events/cloudtrail.js';
import { validateTemplate } from '../helpers/cfn.js';

// biome-ignore lint/suspicious/noExplicitAny: walking a parsed CloudFormation template
type Loose = any;

/**
 * deploy/rescan-forwarder.yml: the rules each member account and region runs to send its
 * posture events to the scanner's bus. They must match exactly what the stack's own rules do
 * (and what the event reader acts on), and forward through a role that can only PutEvents on
 * the scanner's bus.
 */
type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, Loose> }>;
};
const forwarder = parse(
  readFileSync(join(process.cwd(), 'deploy', 'rescan-forwarder.yml'), 'utf8'),
) as Template;

describe('deploy/rescan-forwarder.yml', () => {
  it('uses only resource types and property names CloudFormation knows', () => {
    expect(validateTemplate(forwarder as never)).toEqual([]);
  });

  it('forwards exactly the posture events the stack’s rules queue', () => {
    const pattern = (id: string) => forwarder.Resources[id]?.Properties.EventPattern;
    expect(pattern('S3PostureForwarder').detail).toEqual({
      eventSource: ['s3.amazonaws.com'],
      eventName: [...S3_POSTURE_EVENTS],
      errorCode: [{ exists: false }],
    });
    expect(pattern('KmsPostureForwarder').detail).toEqual({
      eventSource: ['kms.amazonaws.com'],
      eventName: [...KMS_POSTURE_EVENTS],
      errorCode: [{ exists: false }],
    });
    expect(pattern('KmsDeletionForwarder')['detail-type']).toEqual([KMS_DELETION_DETAIL_TYPE]);
  });

  it('targets the scanner bus through a role that may only put events there', () => {
    const rules = Object.values(forwarder.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules).toHaveLength(3);
    for (const rule of rules)
      expect(rule.Properties.Targets).toEqual([
        {
          Id: 'scanner-bus',
          Arn: { Ref: 'ScannerBusArn' },
          RoleArn: { 'Fn::GetAtt': ['ForwarderRole', 'Arn'] },
        },
      ]);
    const role = forwarder.Resources.ForwarderRole?.Properties;
    expect(role?.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(role?.Policies[0].PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'ScannerBusArn' } },
    ]);
  });
});
