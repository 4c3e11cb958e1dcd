import { sanitiseForTerminal, sanitiseLine } from '../export/table.js';
import type { PolicyAnalysis } from '../policy/analyze.js';

function verdictWord(value: boolean | null): string {
  return value === null ? 'not addressed' : value ? 'yes' : 'no';
}

/** A readable explanation of a policy analysis, for `s3scan policy --format text`. */
export function explainAnalysis(analysis: PolicyAnalysis, bucket: string): string {
  const lines = [
    `Bucket policy of ${sanitiseLine(bucket)}:`,
    `  TLS required for every request (tlsEnforced):       ${verdictWord(analysis.tlsEnforced)}`,
    `  Minimum TLS version denied below (tlsMinVersion):   ${analysis.tlsMinVersion ?? 'none in the policy (AWS enforces 1.2)'}`,
    `  Encryption header required on upload (sseEnforced): ${verdictWord(analysis.sseEnforced)}`,
    `  Uploads pinned to a KMS key (kmsKeyEnforced):       ${verdictWord(analysis.kmsKeyEnforced)}${analysis.pinnedKmsKeyArns.length ? ` (${analysis.pinnedKmsKeyArns.join(', ')})` : ''}`,
    `  SSE-C uploads denied (sseCBlocked):                 ${verdictWord(analysis.sseCBlocked)}`,
  ];
  for (const gap of analysis.gaps) {
    lines.push(
      '',
      `Gap in ${gap.verdict}:`,
      `  still allowed for: ${gap.principals.join('; ')}`,
      `  actions: ${gap.actions.join(', ')}`,
      `  resources: ${gap.resources.map(sanitiseForTerminal).join(', ')}`,
      `  why: ${sanitiseForTerminal(gap.reason)}`,
    );
  }
  for (const note of analysis.notes) lines.push('', `Note: ${note}`);
  return `${lines.join('\n')}\n`;
}
