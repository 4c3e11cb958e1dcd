import { Command } from 'commander';
import {
  CollectError,
  ConfigError,
  CredentialsError,
  EvidenceError,
  PolicyParseError,
  ReportStoreError,
} from '../errors.js';
import { IntegrityError } from '../report-store/integrity.js';
import { TOOL_VERSION } from '../version.js';
import { registerAccountsCommand } from './commands/accounts.js';
import { registerAlertCommand } from './commands/alert.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDiffCommand } from './commands/diff.js';
import { registerEvaluateCommand } from './commands/evaluate.js';
import { registerFixCommand } from './commands/fix.js';
import { registerPolicyCommand } from './commands/policy.js';
import { registerReportCommand } from './commands/report.js';
import { registerRescanCommand } from './commands/rescan.js';
import { registerScanCommand } from './commands/scan.js';
import { registerVerifyCommand } from './commands/verify.js';
import { type CliIo, processIo } from './io.js';
import { EXIT } from './output.js';

export { EXIT };

/** Builds the `s3scan` command. Each action resolves to an exit code. */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('s3scan')
    .description('Compliance scanner for Amazon S3 encryption at rest and in transit.')
    .version(TOOL_VERSION)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: oneLine('s3scan') })
    .exitOverride();
  const context = { io, setExit };
  registerScanCommand(program, context);
  registerRescanCommand(program, context);
  registerAccountsCommand(program, context);
  registerEvaluateCommand(program, context);
  registerReportCommand(program, context);
  registerPolicyCommand(program, context);
  registerDiffCommand(program, context);
  registerFixCommand(program, context);
  registerAlertCommand(program, context);
  registerDashboardCommand(program, context);
  registerDemoCommand(program, context);
  registerVerifyCommand(program, context);
  for (const command of program.commands)
    command.configureOutput({
      ...program.configureOutput(),
      outputError: oneLine(`s3scan ${command.name()}`),
    });
  return program;
}

/**
 * A usage error as one line: what was wrong, the suggestion, where the options are listed;
 * not the whole help, which buries the line that matters.
 */
function oneLine(command: string): (text: string, write: (text: string) => void) => void {
  return (text, write) =>
    write(
      `s3scan: ${text
        .replace(/^error: /, '')
        .replace(/\s*\n\s*\(Did you mean (.+?)\?\)/, ' (did you mean $1?)')
        .trim()
        .replace(/\.$/, '')
        .replace(/\s*\n\s*/g, '; ')}; ${command} --help lists the options\n`,
    );
}

function exitCodeFor(error: unknown): number {
  if (error instanceof IntegrityError) return EXIT.tampered;
  if (error instanceof ConfigError || error instanceof EvidenceError) return EXIT.input;
  if (error instanceof PolicyParseError || error instanceof CredentialsError) return EXIT.input;
  if (error instanceof CollectError || error instanceof ReportStoreError) return EXIT.runtime;
  return EXIT.runtime;
}

/** Runs the CLI with arguments (without `node` and the script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    const commanderCode = (error as { code?: string }).code;
    if (commanderCode?.startsWith('commander.')) {
      // Help and version exit 0; usage errors (already printed by commander) exit 2.
      return commanderCode === 'commander.helpDisplayed' ||
        commanderCode === 'commander.version' ||
        commanderCode === 'commander.help'
        ? EXIT.ok
        : EXIT.input;
    }
    if (error instanceof CredentialsError) {
      io.stderr(
        `s3scan: ${error.message}. Configure credentials (aws configure, AWS_PROFILE or --profile), or run \`npm start\` for the bundled demo account.\n`,
      );
      return EXIT.input;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`s3scan: ${message}\n`);
    return exitCodeFor(error);
  }
}
