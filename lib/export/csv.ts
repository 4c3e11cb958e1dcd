import { stringify } from 'csv-stringify/sync';
import type { Finding } from '../engine/types.js';
import { describeAssurance } from './assurance.js';

const COLUMNS = [
  'ruleId',
  'status',
  'severity',
  'account',
  'region',
  'bucket',
  'arn',
  'message',
  'suppressed',
  'assurance',
  'fingerprint',
  'evidenceRef',
] as const;

/**
 * Neutralises spreadsheet formula injection: a cell starting with `=`, `+`, `-`, `@`, tab or
 * carriage return is prefixed with `'` so spreadsheets show it as text (OWASP CSV injection).
 */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** Findings as RFC 4180 CSV (quoted where needed, CRLF line ends) with a header row. */
export function findingsToCsv(findings: Finding[]): string {
  const rows = findings.map((f) =>
    [
      f.ruleId,
      f.status,
      f.severity,
      f.resource.account,
      f.resource.region,
      f.resource.name,
      f.resource.arn,
      f.message,
      f.suppression?.active ? `yes: ${f.suppression.reason} (until ${f.suppression.expires})` : '',
      describeAssurance(f.assurance),
      f.fingerprint,
      f.evidenceRef,
    ].map(neutraliseFormula),
  );
  return stringify([[...COLUMNS], ...rows], { record_delimiter: '\r\n', quoted_match: /[",\r\n]/ });
}
