import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { ConfigError } from '../../errors.js';
import { analyzePolicy } from '../../policy/analyze.js';
import { fixPolicy } from '../../policy/fix.js';
import { explainAnalysis } from '../explain.js';
import type { CommandContext } from '../output.js';

/** `s3scan policy`: analyse one bucket policy document, or add the missing denies. */
export function registerPolicyCommand(program: Command, { io }: CommandContext): void {
  program
    .command('policy')
    .description(
      'Analyse one bucket policy: the five verdicts and what is left open. Reads FILE or stdin.',
    )
    .argument('[file]', 'policy JSON file, or - for stdin')
    .requiredOption('--bucket <name>', 'the bucket the policy is attached to')
    .option('--account <id>', 'the bucket owner account (decides who is "same account")')
    .option('--partition <partition>', 'aws, aws-cn or aws-us-gov (default: from the policy)')
    .option('--fix-tls', 'print the policy with a statement added that denies requests without TLS')
    .option('--fix-sse-c', 'print the policy with a statement added that denies SSE-C uploads')
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'text']).default('json'),
    )
    .action(async (file: string | undefined, options) => {
      if ((!file || file === '-') && io.stdinIsTty) {
        io.stderr(
          's3scan policy: reading the policy from standard input; paste it and end with Ctrl-D, or pass a FILE.\n',
        );
      }
      const text =
        !file || file === '-'
          ? await io.stdin()
          : await readFile(file, 'utf8').catch((error: Error) => {
              throw new ConfigError(`cannot read ${file}: ${error.message}`);
            });
      const analyzeOptions = {
        bucket: options.bucket as string,
        ...(options.account ? { accountId: options.account as string } : {}),
        ...(options.partition ? { partition: options.partition as string } : {}),
      };
      if (options.fixTls || options.fixSseC) {
        const fixed = fixPolicy(text, {
          ...analyzeOptions,
          tls: options.fixTls,
          sseC: options.fixSseC,
        });
        io.stdout(`${JSON.stringify(fixed.policy, null, 2)}\n`);
        io.stderr(
          fixed.added.length > 0
            ? `Added ${fixed.added.join(', ')}; re-analysed: tlsEnforced=${fixed.analysis.tlsEnforced}, sseCBlocked=${fixed.analysis.sseCBlocked}\n`
            : 'Nothing to add: the policy already enforces what was asked.\n',
        );
        return;
      }
      const analysis = analyzePolicy(text, analyzeOptions);
      io.stdout(
        options.format === 'json'
          ? `${JSON.stringify(analysis, null, 2)}\n`
          : explainAnalysis(analysis, options.bucket),
      );
    });
}
