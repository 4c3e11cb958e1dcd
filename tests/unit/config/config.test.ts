import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  CONFIG_SCHEMA,
  type ConfigFile,
  configFromDocument,
  configFromText,
  DEFAULT_SCAN_SETTINGS,
  loadConfigFile,
  MAX_CONFIG_BYTES,
  type ScanSettings,
} from '../../../lib/config/config.js';
import { ConfigError } from '../../../lib/errors.js';

const dir = mkdtempSync(join(tmpdir(), 's3scan-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('Config file', () => {
  it('loads YAML with every option', async () => {
    // Prepare
    const path = file(
      'ok.yml',
      `rules:\n  s3-bucket-key-enabled: { enabled: false }\n  s3-bucket-tls-enforced: { severity: critical }\nkms:\n  allowedKeyArns: ["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]\n  allowedKeyAccounts: ["444455556666"]\ntls: { minVersion: 1.3 }\nuploadEncryption: require-header\nsuppressions:\n  - { rule: s3-bucket-tls-enforced, resource: "legacy-*", reason: migrating, expires: "2027-01-31" }\nscan: { concurrency: 32, maxAttempts: 12, prefixConcurrency: 50, headTransport: sdk, connectTimeoutMs: 2000, requestTimeoutMs: 9000, retryMode: standard, callDeadlineMs: 45000, timeoutRetries: 1, organizationPolicies: false }\n`,
    );

    // Act
    const config = await loadConfigFile(path);

    // Assess
    expect(config.evaluation.rules['s3-bucket-key-enabled']).toEqual({ enabled: false });
    expect(config.evaluation.settings).toEqual({
      allowedKmsKeyArns: [
        'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      ],
      allowedKeyAccounts: ['444455556666'],
      minTlsVersion: '1.3',
      uploadEncryption: 'require-header',
    });
    expect(config.scan).toEqual({
      concurrency: 32,
      maxAttempts: 12,
      prefixConcurrency: 50,
      headTransport: 'sdk',
      connectTimeoutMs: 2000,
      requestTimeoutMs: 9000,
      retryMode: 'standard',
      callDeadlineMs: 45_000,
      timeoutRetries: 1,
      organizationPolicies: false,
    });
  });

  it('refuses an upload-encryption stance it does not know, naming both', () => {
    // Act
    const attempt = () => configFromDocument({ uploadEncryption: 'sometimes' });

    // Assess
    expect(attempt).toThrow(
      /uploadEncryption: must be one of "use-bucket-default", "require-header"/,
    );
  });

  it('refuses a config over 1 MiB before reading it, naming its size', async () => {
    // Prepare: 100,000 suppressions, about 10 MB of YAML.
    const suppression =
      '  - { rule: s3-bucket-tls-enforced, resource: "legacy-*", reason: migrating, expires: "2027-01-31" }\n';
    const path = file('huge.yml', `suppressions:\n${suppression.repeat(100_000)}`);

    // Act
    const attempt = loadConfigFile(path);

    // Assess
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(
      /^config file .*huge\.yml is 9\.\d MiB; s3scan reads configs of at most 1 MiB/,
    );
    expect(() =>
      configFromText('x'.repeat(MAX_CONFIG_BYTES + 1), {
        json: false,
        describe: 's3://reports/config/s3scan.config.yml',
        provenance: { origin: 's3' },
      }),
    ).toThrow(
      /^s3:\/\/reports\/config\/s3scan\.config\.yml is 1\.0 MiB; s3scan reads configs of at most 1 MiB/,
    );
  });

  it('loads JSON', async () => {
    const config = await loadConfigFile(file('ok.json', '{"tls":{"minVersion":"1.2"}}'));
    expect(config.evaluation.settings.minTlsVersion).toBe('1.2');
  });

  it('names every invalid field', () => {
    // Act
    const attempt = () =>
      configFromDocument({
        rules: {
          's3-bucket-nope': { enabled: true },
          's3-bucket-key-enabled': { severity: 'urgent' },
        },
        kms: { allowedKeyAccounts: ['12345'] },
        suppressions: [{ rule: 's3-bucket-tls-enforced', resource: 'x', expires: '2027-01-31' }],
        colour: 'blue',
        scan: { headTransport: 'curl' },
      });

    // Assess
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/rules\.s3-bucket-nope: is not a known name/);
    expect(message).toMatch(/rules\.s3-bucket-key-enabled\.severity: must be one of "critical"/);
    expect(message).toMatch(/kms\.allowedKeyAccounts\[0\]: must match pattern/);
    expect(message).toMatch(/suppressions\[0\]\.reason: is required/);
    expect(message).toMatch(/colour: is not a known field/);
    expect(message).toMatch(/scan\.headTransport: must be one of "direct", "sdk"/);
  });

  it.each(['2027-13-45', '2026-02-30', '2026-04-31', '2025-02-29'])(
    'rejects the impossible expiry date %s',
    (expires) => {
      expect(() =>
        configFromDocument({
          suppressions: [{ rule: 's3-bucket-tls-enforced', resource: 'x', reason: 'y', expires }],
        }),
      ).toThrow(new RegExp(`suppressions\\[0\\]\\.expires: ${expires} is not a real date`));
    },
  );

  it('accepts a leap day', () => {
    expect(() =>
      configFromDocument({
        suppressions: [
          { rule: 's3-bucket-tls-enforced', resource: 'x', reason: 'y', expires: '2028-02-29' },
        ],
      }),
    ).not.toThrow();
  });

  it('reports a broken YAML file with its path, line and column', async () => {
    await expect(
      loadConfigFile(file('broken.yml', 'scan:\n  concurrency: 3\n bad: [\n')),
    ).rejects.toThrow(/broken\.yml is not valid YAML: .*at line 3, column 1:$/);
  });

  it('reports a broken JSON file with its line and column', async () => {
    await expect(
      loadConfigFile(file('broken.json', '{\n  "scan": {\n    "concurrency" 3\n  }\n}\n')),
    ).rejects.toThrow(/broken\.json is not valid JSON: .* \(line 3, column 19\)$/);
  });

  it('reports a missing file', async () => {
    await expect(loadConfigFile(join(dir, 'missing.yml'))).rejects.toThrow(
      /cannot read config file/,
    );
  });
});

describe('Config options are declared once', () => {
  it('takes every scan setting’s default from the schema, and the defaults pass it', () => {
    // Prepare
    const declared = CONFIG_SCHEMA.properties.scan.properties;

    // Act
    const loaded = configFromDocument({ scan: DEFAULT_SCAN_SETTINGS });
    const empty = configFromDocument({});

    // Assess: one default per setting, each the schema's, and a config that sets none gets them.
    expect(Object.keys(DEFAULT_SCAN_SETTINGS).sort()).toEqual(Object.keys(declared).sort());
    for (const [name, property] of Object.entries(declared))
      expect(DEFAULT_SCAN_SETTINGS[name as keyof ScanSettings], name).toBe(property.default);
    expect(loaded.scan).toEqual(DEFAULT_SCAN_SETTINGS);
    expect(empty.scan).toEqual(DEFAULT_SCAN_SETTINGS);
  });

  it('derives the types from the schema: every scan setting set once loaded, optional as written', () => {
    expectTypeOf<ScanSettings['concurrency']>().toEqualTypeOf<number>();
    expectTypeOf<ScanSettings['retryMode']>().toEqualTypeOf<'standard' | 'adaptive'>();
    expectTypeOf<NonNullable<ConfigFile['scan']>['concurrency']>().toEqualTypeOf<
      number | undefined
    >();
    expectTypeOf<NonNullable<ConfigFile['schedule']>['objects']>().toEqualTypeOf<
      'none' | 'sample' | 'full' | 'inventory' | 'auto' | undefined
    >();
    expectTypeOf<
      NonNullable<NonNullable<ConfigFile['alerts']>['sns']>['perFinding']
    >().toEqualTypeOf<boolean | undefined>();
  });
});
