/**
 * Compliance frameworks mapped to s3scan rule ids. Frameworks point at rules; rules never
 * import this file. Requirement ids and titles come from the public sources in `source`.
 */
export interface Requirement {
  id: string;
  title: string;
  rules: string[];
  /**
   * Where the mapping comes from: a Security Hub control page that lists this requirement
   * under the control's "Related requirements", or s3scan's own reading of the requirement.
   */
  basis: string;
}

const S3_CONTROLS = 'https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html';
const KMS_CONTROLS = 'https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html';
const OWN = 's3scan mapping: the rule checks what the requirement text asks for';

/** One framework version and the requirements s3scan gives evidence for. */
export interface Framework {
  id: string;
  name: string;
  version: string;
  source: string;
  requirements: Requirement[];
}

export const FRAMEWORKS: readonly Framework[] = [
  {
    // Only controls that belong to the FSBP standard: S3.17 and KMS.4 are Security Hub
    // controls too, but FSBP does not include them (see aws-securityhub below).
    id: 'aws-fsbp',
    name: 'AWS Foundational Security Best Practices',
    version: '1.0.0',
    source: 'https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html',
    requirements: [
      {
        id: 'S3.5',
        title: 'S3 general purpose buckets should require requests to use SSL',
        rules: ['s3-bucket-tls-enforced'],
        basis: `${S3_CONTROLS}#s3-5`,
      },
      {
        id: 'KMS.3',
        title: 'AWS KMS keys should not be deleted unintentionally',
        rules: ['s3-bucket-kms-key-usable'],
        basis: `${KMS_CONTROLS}#kms-3`,
      },
    ],
  },
  {
    id: 'aws-securityhub',
    name: 'AWS Security Hub CSPM controls',
    version: 'current',
    source:
      'https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-controls-reference.html',
    requirements: [
      {
        id: 'S3.5',
        title: 'S3 general purpose buckets should require requests to use SSL',
        rules: ['s3-bucket-tls-enforced'],
        basis: `${S3_CONTROLS}#s3-5`,
      },
      {
        id: 'S3.17',
        title: 'S3 general purpose buckets should be encrypted at rest with AWS KMS keys',
        rules: ['s3-bucket-default-encryption-kms'],
        basis: `${S3_CONTROLS}#s3-17`,
      },
      {
        id: 'KMS.3',
        title: 'AWS KMS keys should not be deleted unintentionally',
        rules: ['s3-bucket-kms-key-usable'],
        basis: `${KMS_CONTROLS}#kms-3`,
      },
      {
        id: 'KMS.4',
        title: 'AWS KMS key rotation should be enabled',
        rules: ['s3-bucket-kms-key-rotation'],
        basis: `${KMS_CONTROLS}#kms-4`,
      },
    ],
  },
  {
    id: 'cis-aws-foundations',
    name: 'CIS Amazon Web Services Foundations Benchmark',
    version: '3.0.0',
    source: 'https://www.cisecurity.org/benchmark/amazon_web_services',
    requirements: [
      {
        id: '2.1.1',
        title: 'Ensure S3 Bucket Policy is set to deny HTTP requests',
        rules: ['s3-bucket-tls-enforced'],
        basis: `${S3_CONTROLS}#s3-5 (CIS AWS Foundations Benchmark v3.0.0/2.1.1)`,
      },
      {
        id: '3.6',
        title: 'Ensure rotation for customer-created symmetric CMKs is enabled',
        rules: ['s3-bucket-kms-key-rotation'],
        basis: `${KMS_CONTROLS}#kms-4 (CIS AWS Foundations Benchmark v3.0.0/3.6)`,
      },
    ],
  },
  {
    id: 'pci-dss',
    name: 'PCI DSS',
    version: '4.0',
    source: 'https://www.pcisecuritystandards.org/document_library/',
    requirements: [
      {
        id: '3.5.1',
        title: 'PAN is rendered unreadable anywhere it is stored',
        rules: ['s3-bucket-default-encryption-kms', 's3-bucket-policy-requires-encryption'],
        basis: `${S3_CONTROLS}#s3-17 (PCI DSS v4.0.1/3.5.1); the header requirement: ${OWN}`,
      },
      {
        id: '3.6.1',
        title:
          'Procedures are defined and implemented to protect cryptographic keys used to protect stored account data against disclosure and misuse',
        rules: [
          's3-bucket-kms-key-customer-managed',
          's3-bucket-kms-key-same-account',
          's3-bucket-kms-key-decrypt-restricted',
          's3-bucket-policy-pins-kms-key',
          's3-bucket-sse-c-blocked',
        ],
        basis: OWN,
      },
      {
        id: '3.7.4',
        title:
          'Key management policies and procedures include cryptographic key changes for keys that have reached the end of their cryptoperiod',
        rules: ['s3-bucket-kms-key-rotation'],
        basis: `${KMS_CONTROLS}#kms-4 (PCI DSS v4.0.1/3.7.4)`,
      },
      {
        id: '4.2.1',
        title:
          'Strong cryptography and security protocols are implemented to safeguard PAN during transmission over open, public networks',
        rules: ['s3-bucket-tls-enforced', 's3-bucket-tls-min-version'],
        basis: `${S3_CONTROLS}#s3-5 (PCI DSS v4.0.1/4.2.1); the TLS minimum: ${OWN}`,
      },
    ],
  },
  {
    id: 'nist-800-53',
    name: 'NIST SP 800-53',
    version: 'Revision 5',
    source: 'https://csrc.nist.gov/pubs/sp/800/53/r5/upd1/final',
    requirements: [
      {
        id: 'SC-8(1)',
        title: 'Transmission Confidentiality and Integrity | Cryptographic Protection',
        rules: ['s3-bucket-tls-enforced', 's3-bucket-tls-min-version'],
        basis: `${S3_CONTROLS}#s3-5 (NIST.800-53.r5 SC-8(1)); the TLS minimum: ${OWN}`,
      },
      {
        id: 'SC-12',
        title: 'Cryptographic Key Establishment and Management',
        rules: [
          's3-bucket-kms-key-customer-managed',
          's3-bucket-kms-key-usable',
          's3-bucket-kms-key-rotation',
          's3-bucket-kms-key-same-account',
          's3-bucket-sse-c-blocked',
        ],
        basis: `${KMS_CONTROLS}#kms-3 and #kms-4 (NIST.800-53.r5 SC-12); the other key rules: ${OWN}`,
      },
      {
        id: 'SC-13',
        title: 'Cryptographic Protection',
        rules: ['s3-bucket-tls-min-version', 's3-bucket-key-enabled'],
        basis: OWN,
      },
      {
        id: 'SC-28(1)',
        title: 'Protection of Information at Rest | Cryptographic Protection',
        rules: [
          's3-bucket-default-encryption-kms',
          's3-bucket-policy-requires-encryption',
          's3-bucket-policy-pins-kms-key',
        ],
        basis: `${S3_CONTROLS}#s3-17 (NIST.800-53.r5 SC-28(1)); the policy rules: ${OWN}`,
      },
    ],
  },
];

/** `framework:requirement` ids a rule gives evidence for, e.g. `aws-fsbp:S3.5`. */
export function requirementsOf(ruleId: string): string[] {
  return FRAMEWORKS.flatMap((f) =>
    f.requirements.filter((r) => r.rules.includes(ruleId)).map((r) => `${f.id}:${r.id}`),
  );
}
