import type { CliIo } from '../../lib/cli/io.js';
import { runCli } from '../../lib/cli/main.js';

/**
 * Runs `s3scan` in-process with a given stdin, recording what it writes: the exit code, and
 * stdout and stderr as text.
 */
export async function runCliInProcess(
  args: string[],
  options: { stdin?: string; stdinIsTty?: boolean; answers?: string[] } = {},
): Promise<{ code: number; out: string; err: string }> {
  const answers = [...(options.answers ?? [])];
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    stdin: async () => options.stdin ?? '',
    stderrIsTty: false,
    stdinIsTty: options.stdinIsTty ?? false,
    // A question is echoed as a terminal would show it; the next prepared answer is typed.
    ask: async (question) => {
      err += question;
      return answers.shift() ?? '';
    },
  };
  const code = await runCli(args, io);
  return { code, out, err };
}
