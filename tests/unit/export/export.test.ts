import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { toAsff } from '../../../lib/export/asff.js';
import { findingsToCsv, neutraliseFormula } from '../../../lib/export/csv.js';
import { toOcsf } from '../../../lib/export/ocsf.js';
import { renderFindings } from '../../../lib/export/render.js';
import { sanitiseForTerminal } from '../../../lib/export/table.js';
import { evaluateScan } from '../../../lib/scan/evaluate-scan.js';
import { bucketEvidence, scanEvidence, tlsPolicy } from '../../helpers/evidence.js';

const { findings, summary } = evaluateScan(
  scanEvidence([bucketEvidence('b1'), bucketEvidence('b2', { policy: { ok: tlsPolicy('b2') } })]),
);
const scan = { scanTime: summary.scanTime, toolVersion: '0.1.0' };
const tlsFail = findings.find((f) => f.ruleId === 's3-bucket-tls-enforced' && f.status === 'FAIL')!;
const tlsPass = findings.find((f) => f.ruleId === 's3-bucket-tls-enforced' && f.status === 'PASS')!;

describe('OCSF export', () => {
  it('is a Compliance Finding (class 2003) with compliance status and requirements', () => {
    // Act
    const ocsf = toOcsf(tlsFail, scan);

    // Assess
    expect(ocsf).toMatchObject({
      class_uid: 2003,
      category_uid: 2,
      activity_id: 1,
      type_uid: 200301,
      severity_id: 4,
      time: Date.parse('2026-11-01T06:00:00.000Z'),
      finding_info: { uid: tlsFail.fingerprint, title: tlsFail.title },
      compliance: {
        control: 's3-bucket-tls-enforced',
        status_id: 3,
        status: 'Fail',
        requirements: expect.arrayContaining(['aws-fsbp:S3.5', 'cis-aws-foundations:2.1.1']),
      },
      resources: [{ uid: 'arn:aws:s3:::b1', type: 'AWS::S3::Bucket', region: 'us-east-1' }],
      cloud: { provider: 'AWS', account: { uid: '111122223333' } },
    });
    expect(toOcsf(tlsPass, scan).compliance).toMatchObject({ status_id: 1, status: 'Pass' });
  });
});

describe('ASFF export', () => {
  it('has the fields BatchImportFindings requires', () => {
    // Act
    const asff = toAsff(tlsFail, scan);

    // Assess
    expect(asff).toMatchObject({
      SchemaVersion: '2018-10-08',
      Id: `s3scan/${tlsFail.fingerprint}`,
      ProductArn: 'arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default',
      GeneratorId: 's3scan/s3-bucket-tls-enforced',
      AwsAccountId: '111122223333',
      Types: ['Software and Configuration Checks/AWS Security Best Practices'],
      CreatedAt: '2026-11-01T06:00:00.000Z',
      Severity: { Label: 'HIGH' },
      Resources: [
        { Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::b1', Partition: 'aws', Region: 'us-east-1' },
      ],
      Compliance: { Status: 'FAILED' },
      Workflow: { Status: 'NEW' },
    });
    expect(asff.Description.length).toBeLessThanOrEqual(1024);
  });
});

describe('Exports of an organisation-wide scan', () => {
  it('keep the member account in every record: ASFF AwsAccountId, OCSF cloud.account, the account resource type', () => {
    // Prepare: a member's bucket and a member whose role could not be assumed.
    const member = '444455556666';
    const org = evaluateScan({
      ...scanEvidence([bucketEvidence('member-b', { accountId: member })]),
      accounts: [
        { accountId: member, access: 'role', status: 'scanned', region: 'us-east-1', buckets: 1 },
        {
          accountId: '777788889999',
          access: 'role',
          status: 'failed',
          reason: 'AccessDenied',
          region: 'eu-west-1',
          buckets: 0,
        },
      ],
    });
    const bucketFinding = org.findings.find((f) => f.resource.name === 'member-b')!;
    const accountError = org.findings.find(
      (f) => f.status === 'ERROR' && f.ruleId === 's3-account-scanned',
    )!;

    // Act
    const asffBucket = toAsff(bucketFinding, scan);
    const asffAccount = toAsff(accountError, scan);
    const ocsfAccount = toOcsf(accountError, scan);

    // Assess
    expect(asffBucket.AwsAccountId).toBe(member);
    expect(asffAccount).toMatchObject({
      AwsAccountId: '777788889999',
      Resources: [
        { Type: 'AwsAccount', Id: 'arn:aws:iam::777788889999:root', Region: 'eu-west-1' },
      ],
      Compliance: { Status: 'NOT_AVAILABLE' },
    });
    expect(asffAccount.Remediation?.Recommendation.Text).toMatch(/member-role/);
    expect(ocsfAccount).toMatchObject({
      cloud: { account: { uid: '777788889999' } },
      resources: [{ type: 'AWS::::Account', uid: 'arn:aws:iam::777788889999:root' }],
    });
  });
});

describe('CSV export', () => {
  it.each([
    ['=HYPERLINK("http://evil")', `'=HYPERLINK("http://evil")`],
    ['+1+1', `'+1+1`],
    ['-2', `'-2`],
    ['@SUM(A1)', `'@SUM(A1)`],
    ['\tcmd', `'\tcmd`],
    ['plain', 'plain'],
  ])('neutralises %j', (value, expected) => {
    expect(neutraliseFormula(value)).toBe(expected);
  });

  it('is RFC 4180: a header, CRLF rows, quotes doubled, and parses back', () => {
    // Prepare
    const hostile = { ...tlsFail, message: 'a "quoted", multi\nline =cmd|" /C calc"!A0 message' };

    // Act
    const csv = findingsToCsv([hostile]);
    const rows = parse(csv) as string[][];

    // Assess
    expect(csv.split('\r\n')[0]).toBe(
      'ruleId,status,severity,account,region,bucket,arn,message,suppressed,assurance,fingerprint,evidenceRef',
    );
    expect(csv).toContain('"a ""quoted"", multi\nline =cmd|"" /C calc""!A0 message"');
    expect(rows[1]?.[7]).toBe(hostile.message);
  });
});

describe('Table and renderFindings', () => {
  it('makes terminal escape sequences visible instead of acting on them', () => {
    expect(sanitiseForTerminal('bad\u001b[31mred\u0007')).toBe('bad<U+001B>[31mred<U+0007>');
  });

  it.each([
    ['a right-to-left override', 'invoice\u202Efdp.exe', 'invoice<U+202E>fdp.exe'],
    ['a bidi isolate', 'a\u2066b\u2069c', 'a<U+2066>b<U+2069>c'],
    ['a zero-width space', 'prod\u200B-logs', 'prod<U+200B>-logs'],
    ['a zero-width joiner and a BOM', 'x\u200Dy\uFEFF', 'x<U+200D>y<U+FEFF>'],
    ['an Arabic letter mark', 'b\u061Cc', 'b<U+061C>c'],
  ])('makes %s in a bucket name visible', (_what, name, shown) => {
    expect(sanitiseForTerminal(name)).toBe(shown);
  });

  it('leaves ordinary unicode, tabs and newlines alone', () => {
    expect(sanitiseForTerminal('über-bücket\tok\n')).toBe('über-bücket\tok\n');
  });

  it('renders json as the summary and every finding, unchanged', () => {
    // Act
    const parsed = JSON.parse(renderFindings('json', findings, summary, { toolVersion: '0.1.0' }));

    // Assess
    expect(parsed).toEqual({ summary, findings });
  });

  it('renders ocsf as one Compliance Finding per finding, in order', () => {
    // Act
    const parsed = JSON.parse(renderFindings('ocsf', findings, summary, { toolVersion: '0.1.0' }));

    // Assess
    expect(parsed).toHaveLength(findings.length);
    expect(parsed.map((o: { finding_info: { uid: string } }) => o.finding_info.uid)).toEqual(
      findings.map((f) => f.fingerprint),
    );
    expect(new Set(parsed.map((o: { class_uid: number }) => o.class_uid))).toEqual(new Set([2003]));
    expect(parsed[findings.indexOf(tlsFail)]).toEqual(toOcsf(tlsFail, scan));
  });

  it('renders asff as one Security Hub finding per finding but SKIPPED, ids from the fingerprints', () => {
    // Act
    const parsed = JSON.parse(renderFindings('asff', findings, summary, { toolVersion: '0.1.0' }));

    // Assess
    const sent = findings.filter((f) => f.status !== 'SKIPPED');
    expect(sent.length).toBeLessThan(findings.length);
    expect(parsed.map((a: { Id: string }) => a.Id)).toEqual(
      sent.map((f) => `s3scan/${f.fingerprint}`),
    );
    expect(parsed[sent.indexOf(tlsFail)]).toEqual(toAsff(tlsFail, scan));
  });

  it('sends a PASS as INFORMATIONAL, keeps the rule severity as the original, and dates it from the first sighting when known', () => {
    // Act
    const pass = toAsff(tlsPass, scan);
    const fail = toAsff(tlsFail, scan, '2026-10-01T06:00:00.000Z');
    const rendered = JSON.parse(
      renderFindings('asff', [tlsFail], summary, {
        toolVersion: '0.1.0',
        firstSeen: new Map([[tlsFail.fingerprint, '2026-09-30T06:00:00.000Z']]),
      }),
    );

    // Assess
    expect(pass).toMatchObject({
      Severity: { Label: 'INFORMATIONAL' },
      FindingProviderFields: { Severity: { Label: 'INFORMATIONAL', Original: 'high' } },
      Compliance: { Status: 'PASSED' },
      CreatedAt: scan.scanTime,
      FirstObservedAt: scan.scanTime,
      ProductFields: { 's3scan/Assurance': 'complete' },
    });
    expect(fail).toMatchObject({
      Severity: { Label: 'HIGH' },
      CreatedAt: '2026-10-01T06:00:00.000Z',
      FirstObservedAt: '2026-10-01T06:00:00.000Z',
      LastObservedAt: scan.scanTime,
      UpdatedAt: scan.scanTime,
    });
    expect(rendered[0]).toMatchObject({ FirstObservedAt: '2026-09-30T06:00:00.000Z' });
  });

  it('renders csv with a header and one row per finding', () => {
    // Act
    const rows = parse(renderFindings('csv', findings, summary, { toolVersion: '0.1.0' }), {
      columns: true,
    }) as Record<string, string>[];

    // Assess
    expect(rows).toHaveLength(findings.length);
    expect(rows.map((r) => r.fingerprint)).toEqual(findings.map((f) => f.fingerprint));
    expect(rows[findings.indexOf(tlsFail)]).toMatchObject({
      ruleId: 's3-bucket-tls-enforced',
      status: 'FAIL',
      bucket: 'b1',
      arn: 'arn:aws:s3:::b1',
      message: tlsFail.message,
    });
  });

  it('renders the table with the findings that need attention and the counts', () => {
    // Act
    const text = renderFindings('table', findings, summary, { toolVersion: '0.1.0' });

    // Assess: b1's TLS FAIL is listed (the table wraps long messages), b2's TLS PASS is not
    // (PASS shows only with --all).
    const cells = text.replace(/[│┌┬┐├┼┤└┴┘─\s]+/g, ' ');
    expect(cells).toContain(tlsFail.message);
    expect(cells).not.toContain(tlsPass.message);
    expect(text).toContain(`FAIL ${summary.byStatus.FAIL}`);
  });

  it('renders the summary with the scan, the counts and the worst FAILs', () => {
    // Act
    const text = renderFindings('summary', findings, summary, { toolVersion: '0.1.0' });

    // Assess
    expect(text).toContain(`Scan ${summary.scanId} of account ${summary.accountId}`);
    expect(text).toContain(`2 buckets, ${findings.length} findings`);
    expect(text).toContain(`PASS ${summary.byStatus.PASS}`);
    expect(text).toContain(tlsFail.message);
  });

  it('names the config a stored scan was judged with, or the defaults and where none was found', () => {
    // Prepare
    const fromFile = {
      ...summary,
      config: { origin: 'file', location: '/etc/s3scan.yml', sha256: 'ab'.repeat(32) },
    };
    const defaults = {
      ...summary,
      config: { origin: 'default', location: 's3://reports/config/s3scan.config.yml' },
    };

    // Act
    const withFile = renderFindings('summary', findings, fromFile, { toolVersion: '0.1.0' });
    const withDefaults = renderFindings('table', findings, defaults, { toolVersion: '0.1.0' });
    const unstored = renderFindings('summary', findings, summary, { toolVersion: '0.1.0' });

    // Assess
    expect(withFile).toContain('  config: /etc/s3scan.yml (sha256 abababababab)\n');
    expect(withDefaults).toContain(
      '  config: defaults (no config at s3://reports/config/s3scan.config.yml)\n',
    );
    expect(unstored).not.toContain('config:');
  });
});
