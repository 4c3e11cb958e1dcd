import type { EvaluationSummary } from '../engine/evaluate.js';
import type { Finding } from '../engine/types.js';
import { asffFindings } from './asff.js';
import { findingsToCsv } from './csv.js';
import { toOcsf } from './ocsf.js';
import { renderSummary, renderTable } from './table.js';

/** Output formats of `scan`, `evaluate` and `report`. */
export const FORMATS = ['table', 'summary', 'json', 'ocsf', 'asff', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** Renders findings in one of the export formats. */
export function renderFindings(
  format: Format,
  findings: Finding[],
  summary: EvaluationSummary,
  options: {
    toolVersion: string;
    all?: boolean;
    /** When each failing finding was first seen, by fingerprint (ASFF `FirstObservedAt`). */
    firstSeen?: ReadonlyMap<string, string>;
  },
): string {
  const scan = { scanTime: summary.scanTime, toolVersion: options.toolVersion };
  switch (format) {
    case 'table':
      return renderTable(findings, summary, options.all);
    case 'summary':
      return renderSummary(findings, summary);
    case 'json':
      return `${JSON.stringify({ summary, findings }, null, 2)}\n`;
    case 'ocsf':
      return `${JSON.stringify(
        findings.map((f) => toOcsf(f, scan)),
        null,
        2,
      )}\n`;
    case 'asff':
      return `${JSON.stringify(asffFindings(findings, scan, options.firstSeen), null, 2)}\n`;
    case 'csv':
      return findingsToCsv(findings);
  }
}
