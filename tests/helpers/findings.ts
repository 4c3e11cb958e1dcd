import { fingerprint } from '../../lib/engine/evaluate.js';
import type { Finding, Severity, Status } from '../../lib/engine/types.js';

export const ACCOUNT = '111122223333';

/** A finding as the engine writes it, for drift and alert tests. */
export function finding(
  rule: string,
  bucket: string,
  status: Status,
  options: {
    severity?: Severity;
    region?: string;
    account?: string;
    message?: string;
    suppression?: { expires: string; active?: boolean };
  } = {},
): Finding {
  const arn = `arn:aws:s3:::${bucket}`;
  const account = options.account ?? ACCOUNT;
  const region = options.region ?? 'us-east-1';
  return {
    ruleId: rule,
    title: rule,
    status,
    severity: options.severity ?? 'high',
    resource: { arn, type: 'AWS::S3::Bucket', name: bucket, region, account },
    message: options.message ?? `Bucket ${bucket}: ${rule} ${status}.`,
    details: {},
    evidenceRef: `evidence/${account}/${region}/${bucket}.json`,
    fingerprint: fingerprint(rule, arn),
    ...(options.suppression
      ? {
          suppression: {
            resource: bucket,
            reason: 'accepted risk',
            expires: options.suppression.expires,
            active: options.suppression.active ?? true,
          },
        }
      : {}),
  };
}
