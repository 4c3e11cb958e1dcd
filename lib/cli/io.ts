import { createInterface } from 'node:readline/promises';
import type { StoreAdapters } from '../report-store/local.js';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: () => Promise<string>;
  stderrIsTty: boolean;
  /** A person at a terminal, not a pipe: `s3scan policy` without FILE tells them it waits. */
  stdinIsTty: boolean;
  /** Asks a person at the terminal a question and answers their line (`fix --apply` confirms). */
  ask: (question: string) => Promise<string>;
  /**
   * Adapters around a local store's bytes and alert ledger: how the fault tests kill the CLI
   * at a chosen step of a write (tests/helpers/crash-cli.ts); the CLI itself passes none.
   */
  storeAdapters?: StoreAdapters;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  stderrIsTty: process.stderr.isTTY === true,
  stdinIsTty: process.stdin.isTTY === true,
  ask: async (question) => {
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await prompt.question(question);
    } finally {
      prompt.close();
    }
  },
};
