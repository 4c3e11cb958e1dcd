import type {
  AccessPointRule,
  AccountRule,
  ListingRule,
  Rule,
  RuleMetadata,
} from '../engine/types.js';
import { rule as accessPointEncryptionEnforced } from './s3-access-point-encryption-enforced.js';
import { rule as directoryBucketsListed } from './s3-account-directory-buckets-listed.js';
import { rule as accountScanned } from './s3-account-scanned.js';
import { rule as defaultEncryptionKms } from './s3-bucket-default-encryption-kms.js';
import { rule as bucketKeyEnabled } from './s3-bucket-key-enabled.js';
import { rule as kmsKeyCustomerManaged } from './s3-bucket-kms-key-customer-managed.js';
import { rule as kmsKeyDecryptRestricted } from './s3-bucket-kms-key-decrypt-restricted.js';
import { rule as kmsKeyRotation } from './s3-bucket-kms-key-rotation.js';
import { rule as kmsKeySameAccount } from './s3-bucket-kms-key-same-account.js';
import { rule as kmsKeyUsable } from './s3-bucket-kms-key-usable.js';
import { rule as policyAllowsDefaultEncryption } from './s3-bucket-policy-allows-default-encryption.js';
import { rule as policyPinsKmsKey } from './s3-bucket-policy-pins-kms-key.js';
import { rule as policyRequiresEncryption } from './s3-bucket-policy-requires-encryption.js';
import { rule as sseCBlocked } from './s3-bucket-sse-c-blocked.js';
import { rule as tlsEnforced } from './s3-bucket-tls-enforced.js';
import { rule as tlsMinVersion } from './s3-bucket-tls-min-version.js';
import { rule as objectVersionsUnencrypted } from './s3-object-versions-unencrypted.js';
import { rule as objectsKmsKeyMismatch } from './s3-objects-kms-key-mismatch.js';
import { rule as objectsKmsKeyUnusable } from './s3-objects-kms-key-unusable.js';
import { rule as objectsSseC } from './s3-objects-sse-c.js';
import { rule as objectsUnencrypted } from './s3-objects-unencrypted.js';
import { rule as objectsWeakerThanDefault } from './s3-objects-weaker-than-default.js';

/**
 * Every bucket rule. A static list because esbuild bundles only what is imported and a Lambda
 * cannot walk this folder; a contract test checks that every rule file is listed here.
 */
export const BUCKET_RULES: readonly Rule[] = [
  tlsEnforced,
  tlsMinVersion,
  defaultEncryptionKms,
  kmsKeyCustomerManaged,
  kmsKeyUsable,
  kmsKeyRotation,
  kmsKeySameAccount,
  kmsKeyDecryptRestricted,
  bucketKeyEnabled,
  sseCBlocked,
  policyRequiresEncryption,
  policyPinsKmsKey,
  policyAllowsDefaultEncryption,
  objectsUnencrypted,
  objectsSseC,
  objectsKmsKeyUnusable,
  objectsKmsKeyMismatch,
  objectsWeakerThanDefault,
  objectVersionsUnencrypted,
];

/** Every access point rule: judged once per access point of a bucket. */
export const ACCESS_POINT_RULES: readonly AccessPointRule[] = [accessPointEncryptionEnforced];

/** Every account rule: judged once per account of an organisation-wide scan. */
export const ACCOUNT_RULES: readonly AccountRule[] = [accountScanned];

/** Every listing rule: judged once per region's directory bucket listing. */
export const LISTING_RULES: readonly ListingRule[] = [directoryBucketsListed];

/** Every rule, bucket and account: the catalogue the config, exports and rule pages know. */
export const RULE_CATALOGUE: readonly RuleMetadata[] = [
  ...BUCKET_RULES,
  ...ACCESS_POINT_RULES,
  ...ACCOUNT_RULES,
  ...LISTING_RULES,
];
