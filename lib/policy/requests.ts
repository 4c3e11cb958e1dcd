/** A principal s3scan simulates a request from. */
export interface ProbePrincipal {
  kind: 'anonymous' | 'same-account' | 'other-account' | 'exempted';
  label: string;
  account?: string;
  arn?: string;
}

/** A representative S3 action and the resource type it acts on. */
export interface ProbeAction {
  name: string;
  on: 'bucket' | 'object';
}

/**
 * Representative S3 actions, one or more of every class. The two `S3scanFuture…` names stand
 * for actions AWS adds later: only `s3:*`/`*`-style patterns cover them, so a Deny that lists
 * today's actions one by one is not mistaken for "every S3 action".
 */
export const PROBE_ACTIONS: readonly ProbeAction[] = [
  { name: 's3:ListBucket', on: 'bucket' },
  { name: 's3:ListBucketVersions', on: 'bucket' },
  { name: 's3:ListBucketMultipartUploads', on: 'bucket' },
  { name: 's3:GetBucketPolicy', on: 'bucket' },
  { name: 's3:PutBucketPolicy', on: 'bucket' },
  { name: 's3:DeleteBucketPolicy', on: 'bucket' },
  { name: 's3:GetEncryptionConfiguration', on: 'bucket' },
  { name: 's3:PutEncryptionConfiguration', on: 'bucket' },
  { name: 's3:GetBucketAcl', on: 'bucket' },
  { name: 's3:PutBucketAcl', on: 'bucket' },
  { name: 's3:GetBucketLocation', on: 'bucket' },
  { name: 's3:GetBucketVersioning', on: 'bucket' },
  { name: 's3:PutLifecycleConfiguration', on: 'bucket' },
  { name: 's3:DeleteBucket', on: 'bucket' },
  { name: 's3:S3scanFutureBucketAction', on: 'bucket' },
  { name: 's3:GetObject', on: 'object' },
  { name: 's3:GetObjectVersion', on: 'object' },
  { name: 's3:GetObjectAcl', on: 'object' },
  { name: 's3:GetObjectTagging', on: 'object' },
  { name: 's3:GetObjectAttributes', on: 'object' },
  { name: 's3:PutObject', on: 'object' },
  { name: 's3:PutObjectAcl', on: 'object' },
  { name: 's3:PutObjectTagging', on: 'object' },
  { name: 's3:DeleteObject', on: 'object' },
  { name: 's3:DeleteObjectVersion', on: 'object' },
  { name: 's3:RestoreObject', on: 'object' },
  { name: 's3:AbortMultipartUpload', on: 'object' },
  { name: 's3:ListMultipartUploadParts', on: 'object' },
  { name: 's3:S3scanFutureObjectAction', on: 'object' },
];

/** Object keys used to probe object-resource coverage: a plain, a nested and a dotted key. */
export const PROBE_OBJECT_KEYS = ['s3scan-probe-object', 'deep/nested/path/file.bin', '.hidden'];

/**
 * A principal that a `NotPrincipal` names: a Deny with `NotPrincipal` exempts exactly these, so
 * they must be probed too.
 */
export function exemptedPrincipal(entry: string, index: number): ProbePrincipal | undefined {
  if (entry === '*') return undefined;
  const account = /^\d{12}$/.test(entry)
    ? entry
    : /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(entry)?.[1];
  return {
    kind: 'exempted',
    label: `${entry} (exempted by NotPrincipal)`,
    ...(account ? { account } : {}),
    arn:
      /^arn:/.test(entry) && !entry.endsWith(':root')
        ? entry
        : `arn:aws:iam::${account ?? '000000000000'}:role/s3scan-exempted-${index}`,
  };
}

/** The three principal classes every verdict must hold for. */
export function probePrincipals(accountId: string, known = true): ProbePrincipal[] {
  const otherAccount = accountId === '999999999999' ? '888888888888' : '999999999999';
  return [
    { kind: 'anonymous', label: 'anonymous' },
    {
      kind: 'same-account',
      // Without the owner's account (`s3scan policy` without --account) say so, not a number.
      label: known
        ? `principals of the bucket account ${accountId}`
        : 'principals of the bucket account (not given; pass --account to name it)',
      account: accountId,
      arn: `arn:aws:iam::${accountId}:role/s3scan-probe`,
    },
    {
      kind: 'other-account',
      label: 'principals of other accounts',
      account: otherAccount,
      arn: `arn:aws:iam::${otherAccount}:role/s3scan-probe`,
    },
  ];
}
