import { describe, expect, it } from 'vitest';
import { DEFAULT_EVALUATION_CONFIG, evaluate, ruleEnabled } from '../../../lib/engine/evaluate.js';
import type { AccountRule, ListingRule } from '../../../lib/engine/types.js';
import type { ScanEvidence } from '../../../lib/evidence/types.js';
import { ACCOUNT_RULES, BUCKET_RULES, LISTING_RULES } from '../../../lib/rules/index.js';
import { bucketEvidence, scanEvidence } from '../../helpers/evidence.js';

/** The bucket rules on by default: one of the two upload-header rules is off. */
const RUN_BY_DEFAULT = BUCKET_RULES.filter((r) => ruleEnabled(r, DEFAULT_EVALUATION_CONFIG)).length;

/** Account-level findings: the accounts of an organisation scan and each region's listing. */
const org = (): ScanEvidence => ({
  ...scanEvidence([bucketEvidence('b1')]),
  accounts: [
    {
      accountId: '222233334444',
      access: 'role',
      status: 'failed',
      reason: 'AccessDenied',
      region: 'us-east-1',
      buckets: 0,
    },
    {
      accountId: '111122223333',
      access: 'own',
      status: 'scanned',
      region: 'us-east-1',
      buckets: 1,
    },
  ],
  directoryListings: [
    {
      accountId: '111122223333',
      region: 'us-east-1',
      result: { denied: 'AccessDenied', message: 'no' },
    },
    { accountId: '111122223333', region: 'eu-west-1', result: { ok: { buckets: 0 } } },
  ],
});

describe('evaluate: account and listing rules', () => {
  it('judges every account (sorted by id) and every listing, after the buckets', () => {
    // Act
    const { findings, summary } = evaluate(
      org(),
      DEFAULT_EVALUATION_CONFIG,
      BUCKET_RULES,
      ACCOUNT_RULES,
      LISTING_RULES,
    );

    // Assess
    const accountLevel = findings.slice(RUN_BY_DEFAULT);
    expect(accountLevel.map((f) => [f.ruleId, f.resource.account, f.status])).toEqual([
      ['s3-account-scanned', '111122223333', 'PASS'],
      ['s3-account-scanned', '222233334444', 'ERROR'],
      ['s3-account-directory-buckets-listed', '111122223333', 'PASS'],
      ['s3-account-directory-buckets-listed', '111122223333', 'ERROR'],
    ]);
    expect(accountLevel[3]?.resource.arn).toBe('arn:aws:s3express:us-east-1:111122223333:bucket/*');
    expect(new Set(accountLevel.map((f) => f.fingerprint)).size).toBe(4);
    expect(summary.byAccount?.['222233334444']).toEqual({ PASS: 0, FAIL: 0, ERROR: 1, SKIPPED: 0 });
    expect(summary.accounts).toHaveLength(2);
  });

  it('turns a throwing account or listing rule into an ERROR finding, never a crash', () => {
    // Prepare
    const throwing = {
      ...ACCOUNT_RULES[0]!,
      evaluate: () => {
        throw new Error('boom');
      },
    } as AccountRule;
    const throwingListing = {
      ...LISTING_RULES[0]!,
      evaluate: () => {
        throw new Error('bang');
      },
    } as ListingRule;

    // Act
    const { findings } = evaluate(
      org(),
      DEFAULT_EVALUATION_CONFIG,
      [],
      [throwing],
      [throwingListing],
    );

    // Assess
    expect(findings.map((f) => f.status)).toEqual(['ERROR', 'ERROR', 'ERROR', 'ERROR']);
    expect(findings[0]?.message).toMatch(
      /Rule s3-account-scanned failed on account 111122223333: boom/,
    );
    expect(findings[2]?.message).toMatch(/bang/);
  });

  it('applies suppressions, severities and disabling to account rules like bucket rules', () => {
    // Act
    const { findings, summary } = evaluate(
      org(),
      {
        ...DEFAULT_EVALUATION_CONFIG,
        rules: {
          's3-account-scanned': { severity: 'critical' },
          's3-account-directory-buckets-listed': { enabled: false },
        },
        suppressions: [
          {
            rule: 's3-account-scanned',
            resource: '222233334444',
            reason: 'closing',
            expires: '2020-01-01',
          },
        ],
      },
      [],
      ACCOUNT_RULES,
      LISTING_RULES,
    );

    // Assess
    expect(findings.map((f) => f.ruleId)).toEqual(['s3-account-scanned', 's3-account-scanned']);
    expect(findings.every((f) => f.severity === 'critical')).toBe(true);
    expect(findings[1]?.suppression).toMatchObject({ active: false });
    expect(summary.expiredSuppressions).toEqual([
      expect.objectContaining({ rule: 's3-account-scanned', buckets: 1 }),
    ]);
    expect(summary.disabledRules).toEqual(['s3-account-directory-buckets-listed']);
  });

  it('adds nothing to a one-account scan without accounts or listings', () => {
    const { findings, summary } = evaluate(
      scanEvidence([bucketEvidence('b1')]),
      DEFAULT_EVALUATION_CONFIG,
      BUCKET_RULES,
      ACCOUNT_RULES,
      LISTING_RULES,
    );
    expect(findings).toHaveLength(RUN_BY_DEFAULT);
    expect(summary.byAccount).toBeUndefined();
    expect(summary.disabledRules).toEqual(['s3-bucket-policy-requires-encryption']);
  });
});
