const AWS_MANAGED_S3_KEY = /^(?:alias\/aws\/s3|arn:[^:]+:kms:[^:]+:\d{12}:alias\/aws\/s3)$/;

/** True for the AWS managed key `aws/s3` in any of its spellings (alias name or alias ARN). */
export function isAwsManagedS3Alias(keyId: string): boolean {
  return AWS_MANAGED_S3_KEY.test(keyId);
}

/**
 * KMS key states in which S3 can neither encrypt new uploads nor decrypt existing objects
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).
 */
export const UNUSABLE_KEY_STATES: ReadonlySet<string> = new Set([
  'Disabled',
  'PendingDeletion',
  'PendingReplicaDeletion',
  'Unavailable',
]);
