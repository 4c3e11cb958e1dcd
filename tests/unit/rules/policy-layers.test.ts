import { describe, expect, it } from 'vitest';
import { rule as allowsDefaultEncryption } from '../../../lib/rules/s3-bucket-policy-allows-default-encryption.js';
import { rule as requiresEncryption } from '../../../lib/rules/s3-bucket-policy-requires-encryption.js';
import { rule as sseCBlocked } from '../../../lib/rules/s3-bucket-sse-c-blocked.js';
import { rule as tlsEnforced } from '../../../lib/rules/s3-bucket-tls-enforced.js';
import { rule as tlsMinVersion } from '../../../lib/rules/s3-bucket-tls-min-version.js';
import { ACCOUNT, bucketEvidence, tlsPolicy } from '../../helpers/evidence.js';
import {
  attached,
  MANAGEMENT_ACCOUNT,
  memberLayers,
  ORG_ID,
  OU_ID,
  RCP_DENY_SSE_C,
  RCP_HTTPS_ONLY,
  RCP_TLS_VERSION,
  ROOT_ID,
  SCP_HTTPS_ONLY,
} from '../../helpers/policy-layers.js';
import { runRule } from '../../helpers/rules.js';

const ENFORCE_TLS = attached('p-1a2b3c4d5e', 'EnforceTLS', RCP_HTTPS_ONLY);

describe('Policy rules over the bucket policy and the RCPs on the account path', () => {
  it('PASSes TLS for a member bucket with no policy of its own when an RCP on its OU denies plain HTTP, and names the RCP', () => {
    // Act
    const outcome = runRule(tlsEnforced, bucketEvidence('b1'), [], {}, memberLayers([ENFORCE_TLS]));

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message: `Bucket b1 denies every request that does not use TLS: denied by RCP p-1a2b3c4d5e 'EnforceTLS' attached to ${OU_ID}.`,
      details: {
        bucketPolicy: 'absent',
        enforcedBy: [
          {
            layer: 'rcp',
            policyId: 'p-1a2b3c4d5e',
            policyName: 'EnforceTLS',
            attachedTo: OU_ID,
          },
        ],
        rcp: { state: 'judged' },
      },
    });
  });

  it('names both layers when the bucket policy and an RCP deny plain HTTP', () => {
    // Act
    const outcome = runRule(
      tlsEnforced,
      bucketEvidence('b1', { policy: { ok: tlsPolicy('b1') } }),
      [],
      {},
      memberLayers([ENFORCE_TLS]),
    );

    // Assess
    expect(outcome.status).toBe('PASS');
    expect(outcome.message).toMatch(
      /denied by the bucket policy statement #0 \(Sid "RestrictToTLSRequestsOnly"\) and by RCP p-1a2b3c4d5e 'EnforceTLS'/,
    );
  });

  it('keeps the FAIL of a bucket in an account whose path carries only RCPFullAWSAccess, and says the RCPs were judged', () => {
    // Act
    const outcome = runRule(tlsEnforced, bucketEvidence('b1'), [], {}, memberLayers([]));

    // Assess
    expect(outcome).toMatchObject({ status: 'FAIL', details: { rcp: { state: 'judged' } } });
    expect(outcome.message).toMatch(/The 1 RCP on the account's path do not enforce it either\.$/);
  });

  it('makes the verdict partial, with the gap named, when the RCP exempts other accounts', () => {
    // Prepare: the RCP spares principals of one named partner account.
    const exempting = JSON.parse(RCP_HTTPS_ONLY);
    exempting.Statement[0].Condition.StringNotEqualsIfExists = {
      'aws:PrincipalAccount': ['444455556666'],
    };
    const rcp = attached('p-exempting', 'EnforceTLSButPartner', JSON.stringify(exempting));

    // Act
    const outcome = runRule(tlsEnforced, bucketEvidence('b1'), [], {}, memberLayers([rcp]));

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(JSON.stringify(outcome.details?.gaps)).toMatch(
      /RCP p-exempting 'EnforceTLSButPartner' attached to ou-ab12-11111111, statement #0/,
    );
  });

  it('FAILs a management-account bucket and says RCPs never apply there', () => {
    // Prepare
    const layers = {
      accountId: MANAGEMENT_ACCOUNT,
      organizationId: ORG_ID,
      managementAccountId: MANAGEMENT_ACCOUNT,
      rcps: { absent: 'ManagementAccount' },
      scps: { absent: 'ManagementAccount' },
    };

    // Act
    const outcome = runRule(
      tlsEnforced,
      bucketEvidence('b1', { accountId: MANAGEMENT_ACCOUNT }),
      [],
      {},
      layers,
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAIL',
      message: `Bucket b1 has no bucket policy, so requests over plain HTTP are not denied. No RCP covers it: RCPs never apply to the management account (${MANAGEMENT_ACCOUNT}) of organisation ${ORG_ID}.`,
      details: { rcp: { state: 'not-applicable' } },
    });
  });

  it.each([
    [
      {
        denied: 'AccessDeniedException',
        message: 'You don’t have permissions to access this resource.',
      },
      /RCPs were not read \(Organizations denied the read \(AccessDeniedException\): scan from the management account or a delegated administrator/,
    ],
    [
      { error: 'TooManyRequestsException', message: 'Rate exceeded' },
      /RCPs were not read \(the Organizations read failed \(TooManyRequestsException: Rate exceeded\)\)/,
    ],
  ])(
    'keeps the bucket-policy verdict, never "no RCP", when the RCP read was %o',
    (probe, words) => {
      // Act
      const outcome = runRule(tlsEnforced, bucketEvidence('b1'), [], {}, {
        accountId: ACCOUNT,
        rcps: probe,
        scps: probe,
      } as never);

      // Assess
      expect(outcome.status).toBe('FAIL');
      expect(outcome.message).toMatch(words);
      expect(outcome.details).toMatchObject({ rcp: { state: 'not-read' } });
    },
  );

  it.each([
    ['NotInOrganization', `account ${ACCOUNT} is not in an AWS Organization, so no RCPs apply`],
    ['PolicyTypeNotEnabled', `RCPs are not enabled in organisation ${ORG_ID}`],
    [
      'ConsolidatedBillingOnly',
      `organisation ${ORG_ID} has only consolidated billing features, so no RCPs apply`,
    ],
  ])('says why no RCP can apply (%s)', (absent, reason) => {
    // Act
    const outcome = runRule(
      tlsEnforced,
      bucketEvidence('b1'),
      [],
      {},
      {
        accountId: ACCOUNT,
        ...(absent === 'NotInOrganization' ? {} : { organizationId: ORG_ID }),
        rcps: { absent },
        scps: { absent },
      },
    );

    // Assess
    expect(outcome.message).toContain(`No RCP covers it: ${reason}.`);
  });

  it('is ERROR, naming the RCP, when an attached RCP is not a policy', () => {
    // Act
    const outcome = runRule(
      tlsEnforced,
      bucketEvidence('b1'),
      [],
      {},
      memberLayers([attached('p-broken1234', 'Broken', 'not json')]),
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'ERROR' });
    expect(outcome.message).toMatch(
      /RCP p-broken1234 'Broken' attached to ou-ab12-11111111 could not be analysed: the policy is not valid JSON/,
    );
  });

  it('reports an SCP that enforces TLS for the organisation principals only, and keeps the FAIL', () => {
    // Act
    const outcome = runRule(
      tlsEnforced,
      bucketEvidence('b1'),
      [],
      {},
      memberLayers(
        [],
        [
          attached(
            'p-scp0000001',
            'DenyInsecureS3',
            SCP_HTTPS_ONLY,
            { id: ROOT_ID, type: 'ROOT' },
            'service',
          ),
        ],
      ),
    );

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(outcome.message).toContain(
      ` SCP p-scp0000001 'DenyInsecureS3' attached to ${ROOT_ID} enforces it for the organisation's own principals only; requests from other accounts, anonymous requests and service-linked roles stay uncovered.`,
    );
    expect(outcome.details).toMatchObject({
      scpEnforcesForOrganizationPrincipalsOnly: [{ layer: 'scp', policyId: 'p-scp0000001' }],
    });
  });

  it('judges the minimum TLS version over the RCP (its array value)', () => {
    // Act
    const outcome = runRule(
      tlsMinVersion,
      bucketEvidence('b1'),
      [],
      { minTlsVersion: '1.3' },
      memberLayers([attached('p-tls13aaaa', 'S3-Enforce-TLS-version', RCP_TLS_VERSION('1.3'))]),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message: `Bucket b1 denies TLS versions below 1.3 (required: 1.3): denied by RCP p-tls13aaaa 'S3-Enforce-TLS-version' attached to ${OU_ID}.`,
    });
  });

  it('PASSes SSE-C blocking by the published SSE-C RCP, naming it', () => {
    // Act
    const outcome = runRule(
      sseCBlocked,
      bucketEvidence('b1'),
      [],
      {},
      memberLayers([attached('p-ssecaaaaa', 'S3-Deny-SSE-C', RCP_DENY_SSE_C)]),
    );

    // Assess
    expect(outcome).toMatchObject({
      status: 'PASS',
      message: `Bucket b1 blocks SSE-C uploads with a policy Deny (denied by RCP p-ssecaaaaa 'S3-Deny-SSE-C' attached to ${OU_ID} (Sid "RestrictSSECObjectUploads")).`,
    });
  });

  it('does not count an RCP that denies TLS for S3 as requiring an encryption header', () => {
    // Act
    const outcome = runRule(
      requiresEncryption,
      bucketEvidence('b1'),
      [],
      {},
      memberLayers([ENFORCE_TLS]),
    );

    // Assess
    expect(outcome.status).toBe('FAIL');
    expect(outcome.details).toMatchObject({ rcp: { state: 'judged' } });
  });

  it('never reads an absent code it does not know as "none": the RCPs count as not read', () => {
    // Act
    const outcome = runRule(
      tlsEnforced,
      bucketEvidence('b1'),
      [],
      {},
      {
        accountId: ACCOUNT,
        rcps: { absent: 'SomethingNew' },
        scps: { absent: 'SomethingNew' },
      },
    );

    // Assess
    expect(outcome.message).toContain('RCPs were not read (Organizations answered SomethingNew)');
  });

  it('says when a PASS of the default-encryption stance rests on the bucket policy alone because the RCPs were not read', () => {
    // Act
    const unread = runRule(
      allowsDefaultEncryption,
      bucketEvidence('b1'),
      [],
      {},
      {
        accountId: ACCOUNT,
        rcps: { denied: 'AccessDeniedException', message: 'no' },
        scps: { denied: 'AccessDeniedException', message: 'no' },
      },
    );
    const judged = runRule(allowsDefaultEncryption, bucketEvidence('b1'), [], {}, memberLayers([]));

    // Assess
    expect(unread).toMatchObject({
      status: 'PASS',
      message: expect.stringMatching(
        /^Bucket b1 has no bucket policy, so uploads that rely on default encryption are accepted\. RCPs were not read \(Organizations denied the read/,
      ),
      details: { rcp: { state: 'not-read' } },
    });
    expect(judged.message).toBe(
      'Bucket b1 has no bucket policy, so uploads that rely on default encryption are accepted.',
    );
  });
});
