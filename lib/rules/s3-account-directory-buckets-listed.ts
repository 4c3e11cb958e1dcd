import type { ListingRule } from '../engine/types.js';

/**
 * The directory buckets (S3 Express One Zone) of every region the scan looked at were listed.
 * ListBuckets never returns them and ListDirectoryBuckets is regional, so a region whose
 * listing failed may hold directory buckets nobody judged.
 *
 * - PASS: ListDirectoryBuckets answered in the region (zero buckets included).
 * - FAIL: never; a listing either answered or is an ERROR.
 * - ERROR: the listing was denied (s3express:ListAllMyDirectoryBuckets is granted by identity
 *   policies only) or failed.
 * - SKIPPED: the endpoint offers no directory buckets (an S3-compatible store or emulator).
 */
export const rule: ListingRule = {
  id: 's3-account-directory-buckets-listed',
  title: 'Directory buckets could be listed in every region scanned',
  severity: 'medium',
  resourceType: 'AWS::::Account',
  description:
    'Checks that s3scan could call ListDirectoryBuckets in each region it scanned, so S3 Express One Zone directory buckets are judged alongside general purpose buckets.',
  rationale:
    'Directory buckets are not returned by ListBuckets. A scanner without s3express:ListAllMyDirectoryBuckets silently misses them, and with them their encryption and bucket policies.',
  remediation: {
    text: "Grant the scanning role s3express:ListAllMyDirectoryBuckets, s3express:GetEncryptionConfiguration and s3express:GetBucketPolicy in an identity policy (directory bucket policies cannot grant them). s3scan's deployed roles and deploy/member-role.yml include them.",
    cli: `aws iam put-role-policy --role-name SCANNER_ROLE --policy-name s3scan-directory-buckets \\
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3express:ListAllMyDirectoryBuckets","s3express:GetEncryptionConfiguration","s3express:GetBucketPolicy"],"Resource":"*"}]}'`,
    cloudformation: `DirectoryBucketReads:
  Type: AWS::IAM::RolePolicy
  Properties:
    RoleName: !Ref ScannerRole
    PolicyName: s3scan-directory-buckets
    PolicyDocument:
      Version: '2012-10-17'
      Statement:
        - Effect: Allow
          Action:
            - s3express:ListAllMyDirectoryBuckets
            - s3express:GetEncryptionConfiguration
            - s3express:GetBucketPolicy
          Resource: '*'`,
  },
  references: [
    'https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListDirectoryBuckets.html',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-express-security-iam.html',
    'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3express.html',
  ],
  evidence: ['directoryListings'],
  evaluate({ listing }) {
    const where = `account ${listing.accountId} in ${listing.region}`;
    const { result } = listing;
    if ('ok' in result)
      return {
        status: 'PASS',
        message: `Directory buckets of ${where} were listed: ${result.ok.buckets}.`,
        details: { buckets: result.ok.buckets },
      };
    if ('absent' in result)
      return { status: 'SKIPPED', message: `No directory buckets for ${where}: ${result.absent}.` };
    const reason =
      'denied' in result
        ? `access denied (${result.denied}); s3express:ListAllMyDirectoryBuckets is granted by identity policies only`
        : `the listing failed (${result.error}: ${result.message})`;
    return {
      status: 'ERROR',
      message: `Could not list the directory buckets of ${where}, so any there were not judged: ${reason}.`,
    };
  },
};
