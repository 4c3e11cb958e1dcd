import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../helpers/cli-io.js';

const TLS_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: ['arn:aws:s3:::b1', 'arn:aws:s3:::b1/*'],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  },
});

/** `s3scan policy --bucket b1 ARGS`, in-process with a given stdin. */
function policy(args: string[], stdin: string, stdinIsTty = false) {
  return runCliInProcess(['policy', '--bucket', 'b1', ...args], { stdin, stdinIsTty });
}

describe('s3scan policy', () => {
  it('says it reads standard input when no FILE is given on a terminal', async () => {
    // Act
    const result = await policy([], TLS_ONLY, true);

    // Assess
    expect(result.err).toMatch(
      /reading the policy from standard input; paste it and end with Ctrl-D/,
    );
    expect(JSON.parse(result.out)).toMatchObject({ tlsEnforced: true });
  });

  it('stays quiet on a pipe', async () => {
    expect((await policy([], TLS_ONLY)).err).toBe('');
  });

  it('accepts a UTF-8 byte order mark', async () => {
    // Act
    const result = await policy([], `\uFEFF${TLS_ONLY}`);

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ tlsEnforced: true });
  });

  it.each([
    ['text that is not JSON', 'hello\nworld\n', /^s3scan: the policy is not valid JSON: [^\n]*\n$/],
    [
      '100,000 levels of nesting',
      `{"Statement":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      /^s3scan: the policy nests more than 64 levels deep[^\n]*\n$/,
    ],
    [
      '100,000 levels of objects',
      `{"Statement":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
      /^s3scan: the policy nests more than 64 levels deep[^\n]*\n$/,
    ],
  ])('refuses %s with exit 2 and one line', async (_name, text, message) => {
    // Act
    const result = await policy([], text);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.out).toBe('');
  });

  it('names the bucket account given with --account, and invents none without it', async () => {
    // Prepare: a Deny that exempts the owner's account leaves it open.
    const exempting = JSON.stringify({
      Statement: {
        Effect: 'Deny',
        NotPrincipal: { AWS: 'arn:aws:iam::444455556666:root' },
        Action: 's3:*',
        Resource: ['arn:aws:s3:::b1', 'arn:aws:s3:::b1/*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    });

    // Act
    const withAccount = JSON.parse((await policy(['--account', '444455556666'], exempting)).out);
    const without = JSON.parse((await policy([], exempting)).out);

    // Assess
    expect(withAccount.tlsEnforced).toBe(false);
    expect(withAccount.gaps[0].principals).toContain(
      'principals of the bucket account 444455556666',
    );
    expect(JSON.stringify(without)).not.toMatch(/111122223333/);
    expect(JSON.stringify(without.gaps)).toMatch(/exempted by NotPrincipal/);
  });
});
