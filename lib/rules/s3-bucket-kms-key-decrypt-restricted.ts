import type { BucketContext, Rule } from '../engine/types.js';
import { probeFailure } from '../evidence/probe.js';
import type { KmsKeyEvidence } from '../evidence/types.js';
import { decryptAccess } from '../policy/key-policy.js';
import { unclassified } from './shared/objects.js';

/**
 * The customer managed KMS keys a bucket uses (its default key, and the keys its scanned
 * objects are under) let only named principals decrypt: no key policy statement allows
 * `kms:Decrypt` to any principal of any account without a condition naming the callers.
 *
 * - PASS: every such key's policy names who may decrypt; the message names the accounts other
 *   than the bucket's and the services it allows.
 * - FAIL: a key policy allows kms:Decrypt to `"*"` (or `{"AWS":"*"}`) with no condition
 *   pinning the caller's account, ARN or organisation (`kms:ViaService` alone does not):
 *   the encryption grants no access control. The statement is named.
 * - ERROR: DescribeKey, or GetKeyPolicy for a key of the bucket's own account, was denied or
 *   failed, or the policy is not a valid policy.
 * - SKIPPED: the bucket uses no customer managed key, or only keys of other accounts, whose
 *   policies GetKeyPolicy cannot read from here (scan the key's account).
 */
export const rule: Rule = {
  id: 's3-bucket-kms-key-decrypt-restricted',
  title: 'KMS keys of the bucket let only named principals decrypt',
  severity: 'high',
  resourceType: 'AWS::S3::Bucket',
  description:
    'Checks the key policy of every customer managed KMS key the bucket or its objects use: no statement may allow kms:Decrypt to every principal without a condition that names the callers.',
  rationale:
    'SSE-KMS protects data only as far as the key policy restricts who may decrypt. A key policy that allows kms:Decrypt to Principal "*" without a condition lets anyone whom S3 lets read the object also decrypt it: the encryption adds no access control. Grants can widen access further (they are not read here).',
  remediation: {
    text: 'Replace Principal "*" in the Allow statements of the key policy with the roles or accounts that need to decrypt, or add a condition that pins the caller (kms:CallerAccount, aws:PrincipalOrgID with StringEquals) together with kms:ViaService s3.REGION.amazonaws.com.',
    cli: `aws kms get-key-policy --key-id KEY_ARN --policy-name default --query Policy --output text > key-policy.json
# edit the statements that allow kms:Decrypt to "*", then:
aws kms put-key-policy --key-id KEY_ARN --policy-name default --policy file://key-policy.json`,
    cloudformation: `BucketKey:
  Type: AWS::KMS::Key
  Properties:
    KeyPolicy:
      Version: '2012-10-17'
      Statement:
        - Sid: KeyAdministration
          Effect: Allow
          Principal: { AWS: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root' }
          Action: 'kms:*'
          Resource: '*'
        - Sid: DecryptThroughS3FromThisAccount
          Effect: Allow
          Principal: { AWS: '*' }
          Action: ['kms:Decrypt', 'kms:GenerateDataKey']
          Resource: '*'
          Condition:
            StringEquals:
              kms:CallerAccount: !Ref AWS::AccountId
              kms:ViaService: !Sub 's3.\${AWS::Region}.amazonaws.com'`,
  },
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service',
  ],
  evidence: ['encryption', 'kms.describe', 'kms.keyPolicy'],
  directoryBuckets: 'applies',
  evaluate(context) {
    const name = context.bucket.name;
    const keys = keysOf(context);
    // A key that could not be described may be customer managed: its policy is unjudged.
    const undescribed = unreadKeys(context);
    const encryptionUnread = probeFailure(context.bucket.encryption);
    if (keys.length === 0 && undescribed.length === 0 && encryptionUnread)
      return {
        status: 'ERROR',
        message: `Could not tell which KMS key bucket ${name} uses by default: GetBucketEncryption: ${encryptionUnread}.`,
      };
    // Keys of objects the scan did not see are keys it cannot vouch for.
    const objectGap = context.bucket.objects
      ? unclassified(context.bucket.objects, { kmsKeys: true })
      : undefined;
    if (keys.length === 0 && undescribed.length === 0 && objectGap)
      return {
        status: 'ERROR',
        message: `Could not tell every KMS key the objects of bucket ${name} use: ${objectGap}.`,
      };
    if (keys.length === 0 && undescribed.length === 0)
      return {
        status: 'SKIPPED',
        message: `Bucket ${name} uses no customer managed KMS key by default or in its scanned objects.`,
      };
    const judged = keys.map((key) => judgeKey(context, key));
    const open = judged.filter((j) => j.open.length > 0);
    if (open.length > 0) {
      const first = open[0]!;
      return {
        status: 'FAIL',
        message: `The key policy of ${first.arn} (${first.role} of bucket ${name}) lets any principal of any account use it for kms:Decrypt (${first.open.join(', ')}) with no condition naming the callers: the encryption grants no access control${open.length > 1 ? `; ${open.length - 1} more key${open.length > 2 ? 's' : ''} too` : ''}.`,
        details: { keys: judged },
      };
    }
    const failed = [
      ...undescribed.map((u) => ({ arn: u.ref, error: `DescribeKey: ${u.reason}` })),
      ...judged.filter((j) => j.error),
    ];
    if (failed.length > 0)
      return {
        status: 'ERROR',
        message: `Could not read the key policy of ${failed.map((j) => `${j.arn} (${j.error})`).join('; ')}, used by bucket ${name}.`,
        details: { keys: judged },
      };
    const read = judged.filter((j) => !j.elsewhere);
    if (read.length === 0)
      return {
        status: 'SKIPPED',
        message: `Bucket ${name} uses only KMS keys of other accounts (${judged.map((j) => j.arn).join(', ')}), whose key policies GetKeyPolicy can read only in their own account: scan those accounts.`,
        details: { keys: judged },
      };
    const others = [
      ...new Set(read.flatMap((j) => j.accounts.filter((a) => a !== context.bucket.accountId))),
    ];
    const services = [...new Set(read.flatMap((j) => j.services))];
    return {
      status: 'PASS',
      message: `Bucket ${name} uses ${read.length === 1 ? 'a customer managed key whose key policy allows' : `${read.length} customer managed keys whose key policies allow`} kms:Decrypt only to named principals${others.length > 0 ? `; other accounts allowed to decrypt: ${others.join(', ')}` : ''}${services.length > 0 ? `; services: ${services.join(', ')}` : ''}.`,
      details: { keys: judged, otherAccounts: others },
    };
  },
};

/** One key's verdict, for the details and the message. */
interface KeyJudgement {
  arn: string;
  role: string;
  open: string[];
  accounts: string[];
  services: string[];
  narrowedByDeny?: string[];
  error?: string;
  /** A key of another account: its policy can only be read there. */
  elsewhere?: boolean;
}

/** The keys the bucket names whose DescribeKey was denied or failed, with why. */
function unreadKeys(context: BucketContext): { ref: string; reason: string }[] {
  const refs = new Set([
    ...(context.bucket.defaultKmsKeyRef ? [context.bucket.defaultKmsKeyRef] : []),
    ...Object.keys(context.bucket.objects?.byKmsKey ?? {}),
  ]);
  return [...refs].flatMap((ref) => {
    const key = context.kmsKeys[ref];
    const reason = key ? probeFailure(key.describe) : 'no key facts were collected';
    return reason ? [{ ref, reason }] : [];
  });
}

/** The customer managed keys the bucket uses, each once, the default key first. */
function keysOf(context: BucketContext): { key: KmsKeyEvidence; role: string }[] {
  const refs = [
    ...(context.bucket.defaultKmsKeyRef
      ? [{ ref: context.bucket.defaultKmsKeyRef, role: 'the default key' }]
      : []),
    ...Object.keys(context.bucket.objects?.byKmsKey ?? {}).map((ref) => ({
      ref,
      role: 'a key its objects use',
    })),
  ];
  const seen = new Set<string>();
  const keys: { key: KmsKeyEvidence; role: string }[] = [];
  for (const { ref, role } of refs) {
    const key = context.kmsKeys[ref];
    if (!key || !('ok' in key.describe) || key.describe.ok.KeyManager !== 'CUSTOMER') continue;
    const arn = key.describe.ok.Arn ?? key.ref;
    if (seen.has(arn)) continue;
    seen.add(arn);
    keys.push({ key, role });
  }
  return keys;
}

function judgeKey(
  context: BucketContext,
  { key, role }: { key: KmsKeyEvidence; role: string },
): KeyJudgement {
  const metadata = 'ok' in key.describe ? key.describe.ok : undefined;
  const arn = metadata?.Arn ?? key.ref;
  const owner = metadata?.AWSAccountId ?? /^arn:[^:]+:kms:[^:]*:(\d{12}):/.exec(arn)?.[1];
  const base = { arn, role, open: [], accounts: [], services: [] };
  const probe = key.keyPolicy;
  if (!probe) return { ...base, error: 'the scan did not read it' };
  if (!('ok' in probe)) {
    if ('denied' in probe && owner && owner !== context.bucket.accountId)
      return { ...base, elsewhere: true };
    return {
      ...base,
      error: probeFailure(probe) ?? `GetKeyPolicy answered ${JSON.stringify(probe)}`,
    };
  }
  try {
    const access = decryptAccess(probe.ok);
    return {
      ...base,
      open: access.openTo,
      accounts: access.accounts,
      services: access.services,
      ...(access.narrowedByDeny.length > 0 ? { narrowedByDeny: access.narrowedByDeny } : {}),
    };
  } catch (error) {
    return { ...base, error: `the key policy is not a valid policy: ${(error as Error).message}` };
  }
}
