import Table from 'cli-table3';
import type { EvaluationSummary } from '../engine/evaluate.js';
import { type Finding, SEVERITIES } from '../engine/types.js';

/** Removes terminal control sequences that hostile names or messages could carry. */
export function sanitiseForTerminal(text: string): string {
  return text.replace(
    INVISIBLE,
    (ch) => `<U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`,
  );
}

/**
 * {@link sanitiseForTerminal} for text that must stay on one line (a bucket name, a key, an id
 * from an event): a newline, carriage return or tab in it is shown as `<U+000A>` and so on,
 * so a hostile name cannot start a line of output that looks like s3scan's own.
 */
export function sanitiseLine(text: string): string {
  return sanitiseForTerminal(text).replace(
    /[\t\n\r]/g,
    (ch) => `<U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`,
  );
}

/**
 * Characters a terminal would act on or hide: C0/C1 controls (escape sequences), bidirectional
 * overrides and isolates (they reorder what follows, so `evil\u202Etxt.exe` reads as
 * `evilexe.txt`), and zero-width characters (two names that look alike). Tab and newline stay.
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const STATUS_ORDER = { ERROR: 0, FAIL: 1, PASS: 2, SKIPPED: 3 } as const;

/**
 * A readable summary and a table of the findings that need attention (FAIL and ERROR);
 * `all` adds PASS and SKIPPED.
 */
export function renderTable(findings: Finding[], summary: EvaluationSummary, all = false): string {
  const shown = findings
    .filter((f) => all || f.status === 'FAIL' || f.status === 'ERROR')
    .sort(
      (a, b) =>
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
        SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
        a.resource.name.localeCompare(b.resource.name) ||
        a.ruleId.localeCompare(b.ruleId),
    );
  const lines: string[] = [];
  if (shown.length > 0) {
    const rows = shown.map((f) => [
      f.suppression?.active ? `${f.status}*` : f.status,
      f.severity,
      sanitiseLine(f.resource.name),
      f.ruleId,
      sanitiseForTerminal(f.message),
    ]);
    // Columns as wide as their longest bucket name, rule id and word: cli-table3 cuts a word
    // longer than its column with "…", and a user copies these into suppressions and consoles.
    const longest = (column: number, words = false) =>
      Math.max(
        0,
        ...rows.map((r) =>
          words
            ? Math.max(
                0,
                ...String(r[column])
                  .split(/\s+/)
                  .map((w) => w.length),
              )
            : String(r[column]).length,
        ),
      );
    const table = new Table({
      head: ['Status', 'Severity', 'Bucket', 'Rule', 'Finding'],
      colWidths: [
        Math.max(6, longest(0)) + 2,
        Math.max(8, longest(1)) + 2,
        Math.max(8, longest(2)) + 2,
        Math.max(6, longest(3)) + 2,
        Math.max(70, longest(4, true) + 2),
      ],
      wordWrap: true,
      style: { head: [], border: [] },
    });
    for (const row of rows) table.push(row);
    lines.push(table.toString());
    if (shown.some((f) => f.suppression?.active)) lines.push('* suppressed (see the config file)');
  }
  lines.push(...summaryLines(summary, all));
  return `${lines.join('\n')}\n`;
}

/**
 * A compact view for a first look (`npm start`): findings per rule, then the critical and
 * high severity FAILs, then the totals.
 */
export function renderSummary(findings: Finding[], summary: EvaluationSummary): string {
  const byRule = new Table({
    head: ['Rule', 'PASS', 'FAIL', 'ERROR', 'SKIPPED'],
    style: { head: [], border: [] },
  });
  for (const [ruleId, counts] of Object.entries(summary.byRule)) {
    byRule.push([ruleId, counts.PASS, counts.FAIL, counts.ERROR, counts.SKIPPED]);
  }
  const lines = [byRule.toString()];
  const urgent = findings.filter(
    (f) =>
      f.status === 'FAIL' &&
      !f.suppression?.active &&
      (f.severity === 'critical' || f.severity === 'high'),
  );
  if (urgent.length > 0) {
    lines.push('', 'Critical and high severity failures:');
    for (const f of urgent.sort(
      (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity),
    )) {
      lines.push(`  [${f.severity}] ${sanitiseForTerminal(f.message)}`);
    }
  }
  lines.push('', ...summaryLines(summary, true));
  return `${lines.join('\n')}\n`;
}

function summaryLines(summary: EvaluationSummary, all: boolean): string[] {
  const lines: string[] = [];
  const s = summary.byStatus;
  lines.push(
    `Scan ${summary.scanId} of account ${summary.accountId} at ${summary.scanTime}: ${summary.buckets} buckets, ${summary.findings} findings`,
    `  PASS ${s.PASS}   FAIL ${s.FAIL}   ERROR ${s.ERROR}   SKIPPED ${s.SKIPPED}   suppressed ${summary.suppressed}`,
    `  failed by severity: ${SEVERITIES.map((sev) => `${sev} ${summary.failedBySeverity[sev]}`).join(', ')}`,
  );
  if (!all && s.PASS + s.SKIPPED > 0)
    lines.push(`  (${s.PASS} PASS and ${s.SKIPPED} SKIPPED findings not shown; use --all)`);
  // A PASS that saw a sample or an inventory is weaker than one that saw every object.
  const sampled = summary.byAssurance?.sample?.PASS ?? 0;
  const inventoried = summary.byAssurance?.inventory?.PASS ?? 0;
  if (sampled + inventoried > 0)
    lines.push(
      `  assurance: ${[
        sampled
          ? `${sampled} PASS rest on a sample of objects (each says how much it could miss)`
          : '',
        inventoried
          ? `${inventoried} PASS on S3 Inventory (objects written since the delivery are not covered)`
          : '',
      ]
        .filter(Boolean)
        .join('; ')}`,
    );
  for (const e of summary.expiredSuppressions) {
    lines.push(
      `  expired suppression: ${e.rule} on ${sanitiseForTerminal(e.resource)}${e.buckets > 1 ? ` (${e.buckets} buckets)` : ''} (expired ${e.expires}: ${sanitiseForTerminal(e.reason)})`,
    );
  }
  if (summary.disabledRules.length > 0)
    lines.push(`  disabled rules: ${summary.disabledRules.join(', ')}`);
  // A stored scan says which config judged it: the auditor's first question.
  const config = (summary as EvaluationSummary & { config?: ConfigLine }).config;
  if (config) lines.push(`  config: ${describeConfig(config)}`);
  return lines;
}

/** The part of a summary's `config` the table shows. */
interface ConfigLine {
  origin: string;
  location?: string;
  sha256?: string;
}

function describeConfig(config: ConfigLine): string {
  const where = sanitiseForTerminal(config.location ?? '');
  if (config.origin === 'default')
    return where ? `defaults (no config at ${where})` : 'defaults (no config file)';
  return `${where} (sha256 ${config.sha256?.slice(0, 12) ?? 'unknown'})`;
}
