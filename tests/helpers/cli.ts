import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A running `s3scan` process: its output so far, and its end. */
export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal that ended it) and the time it took. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** A home folder with no AWS config, credentials or profile in reach. */
export function isolatedHome(): string {
  return mkdtempSync(join(tmpdir(), 's3scan-home-'));
}

/**
 * Starts the built CLI the way a user does (`node bin/s3scan.js ...`), with only the
 * environment given here plus PATH: no AWS settings leak in from the machine.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd: string): CliRun {
  let out = '';
  let err = '';
  const started = performance.now();
  // A kill -9 at a named step: the CLI from source with the fault adapters of crash-cli.ts.
  const entry =
    env.S3SCAN_TEST_CRASH_AT === undefined
      ? [join(root, 'bin/s3scan.js')]
      : ['--import', import.meta.resolve('tsx'), join(root, 'tests/helpers/crash-cli.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_CONFIG_FILE: join(cwd, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'no-credentials'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>(
    (resolve) =>
      child.once('close', (code, signal) =>
        resolve({ code, signal, ms: performance.now() - started }),
      ),
  );
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Waits until `condition` holds, polling; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The environment that points the CLI at a fake AWS endpoint on 127.0.0.1 with test keys. */
export function fakeAwsEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
  };
}
