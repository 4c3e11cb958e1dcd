import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
} from '@aws-sdk/client-kms';
import { CollectError } from '../errors.js';
import { isAwsManagedS3Alias } from '../evidence/kms.js';
import type { KmsKeyEvidence, KmsKeyMetadata, KmsKeyRotation } from '../evidence/types.js';
import type { AwsClients } from './clients.js';
import { abortOption, jsonSafe, probe } from './probe.js';

/** IAM actions the KMS collector needs. */
export const KMS_IAM_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyRotationStatus',
  'kms:GetKeyPolicy',
] as const;

/**
 * The canonical reference of a bucket's default key: a key ARN or an alias ARN. Key ids and
 * aliases resolve in the requester's account and the bucket's region. Returns undefined for
 * the AWS managed `aws/s3` key, which s3scan never describes (DescribeKey on `alias/aws/s3`
 * can create that key).
 */
export function canonicalKeyRef(
  keyId: string | undefined,
  bucket: { region: string; accountId: string; partition: string },
): string | undefined {
  if (!keyId || isAwsManagedS3Alias(keyId)) return undefined;
  if (keyId.startsWith('arn:')) return keyId;
  const prefix = `arn:${bucket.partition}:kms:${bucket.region}:${bucket.accountId}`;
  return keyId.startsWith('alias/') ? `${prefix}:${keyId}` : `${prefix}:key/${keyId}`;
}

/** The region in a KMS ARN. */
export function keyRegion(ref: string): string {
  return ref.split(':')[3] ?? '';
}

/**
 * DescribeKey, then GetKeyRotationStatus and GetKeyPolicy (policy name `default`, the only
 * one) for customer managed keys, in the key's own region. Called once per distinct key per
 * scan. GetKeyPolicy works only in the key's own account: for another account's key it is
 * denied, which the key-policy rule reads as "not readable from here".
 */
export async function collectKmsKey(
  clients: AwsClients,
  ref: string,
  limit: <T>(fn: () => Promise<T>) => Promise<T>,
  signal?: AbortSignal,
): Promise<KmsKeyEvidence> {
  const region = keyRegion(ref);
  const kms = clients.kms(region);
  const describe = await limit(() =>
    probe(
      async () =>
        jsonSafe<{ KeyMetadata?: KmsKeyMetadata }>(
          await kms.send(new DescribeKeyCommand({ KeyId: ref }), abortOption(signal)),
        ).KeyMetadata ?? { KeyId: ref },
      ['NotFoundException'],
    ),
  );
  const evidence: KmsKeyEvidence = { ref, region, describe };
  if ('ok' in describe && describe.ok.KeyManager === 'CUSTOMER') {
    // GetKeyRotationStatus rejects aliases: use the key ARN DescribeKey resolved.
    const keyArn = describe.ok.Arn ?? ref;
    evidence.rotation = await limit(() =>
      probe(async () =>
        jsonSafe<KmsKeyRotation>(
          await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }), abortOption(signal)),
        ),
      ),
    );
    // PolicyName is optional for AWS (it defaults to `default`), required by emulators.
    evidence.keyPolicy = await limit(() =>
      probe(async () => {
        const out = await kms.send(
          new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }),
          abortOption(signal),
        );
        if (typeof out.Policy !== 'string')
          throw new CollectError(`GetKeyPolicy of ${keyArn} returned no Policy`);
        return out.Policy;
      }),
    );
  }
  return evidence;
}
