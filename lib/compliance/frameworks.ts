/**
 * Compliance frameworks mapped to s3scan rule ids. Frameworks point at rules; rules never
 * import this file. Requirement ids and titles come from the public sources in `source`.
 */
export interface Requirement {
  id: string;
  title: string;
  rules: string[];
}

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
    id: 'aws-fsbp',
    name: 'AWS Foundational Security Best Practices',
    version: '1.0.0',
    source: 'https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html',
    requirements: [
      {
        id: 'S3.5',
        title: 'S3 general purpose buckets should require requests to use SSL',
        rules: ['s3-bucket-tls-enforced'],
      },
      {
        id: 'S3.17',
        title: 'S3 general purpose buckets should be encrypted at rest with AWS KMS keys',
        rules: ['s3-bucket-default-encryption-kms'],
      },
      {
        id: 'KMS.3',
        title: 'AWS KMS keys should not be deleted unintentionally',
        rules: ['s3-bucket-kms-key-usable'],
      },
      {
        id: 'KMS.4',
        title: 'AWS KMS key rotation should be enabled',
        rules: ['s3-bucket-kms-key-rotation'],
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
      },
      {
        id: '3.6',
        title: 'Ensure rotation for customer-created symmetric CMKs is enabled',
        rules: ['s3-bucket-kms-key-rotation'],
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
      },
      {
        id: '3.6.1',
        title:
          'Procedures are defined and implemented to protect cryptographic keys used to protect stored account data against disclosure and misuse',
        rules: [
          's3-bucket-kms-key-customer-managed',
          's3-bucket-kms-key-same-account',
          's3-bucket-policy-pins-kms-key',
          's3-bucket-sse-c-blocked',
        ],
      },
      {
        id: '3.7.4',
        title:
          'Key management policies and procedures include cryptographic key changes for keys that have reached the end of their cryptoperiod',
        rules: ['s3-bucket-kms-key-rotation'],
      },
      {
        id: '4.2.1',
        title:
          'Strong cryptography and security protocols are implemented to safeguard PAN during transmission over open, public networks',
        rules: ['s3-bucket-tls-enforced', 's3-bucket-tls-min-version'],
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
      },
      {
        id: 'SC-13',
        title: 'Cryptographic Protection',
        rules: ['s3-bucket-tls-min-version', 's3-bucket-key-enabled'],
      },
      {
        id: 'SC-28(1)',
        title: 'Protection of Information at Rest | Cryptographic Protection',
        rules: [
          's3-bucket-default-encryption-kms',
          's3-bucket-policy-requires-encryption',
          's3-bucket-policy-pins-kms-key',
        ],
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
