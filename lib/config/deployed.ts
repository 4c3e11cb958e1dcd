import type { ConfigRead, ConfigSource } from '../aws/config-sources.js';
import { ConfigError } from '../errors.js';
import { configFromText, defaultConfig, type LoadedConfig } from './config.js';

/**
 * The deployed scanner's config, cached per Lambda container: every scan asks the source
 * whether the document changed (one conditional read), parses and validates only when it did,
 * and uses the defaults, recorded as such, when there is no document at all.
 */
export class DeployedConfig {
  private cached: { version: string; config: LoadedConfig } | undefined;

  public constructor(private readonly source: ConfigSource) {}

  /** Where this config lives. */
  public get location(): string {
    return this.source.location;
  }

  /** The config for the scan about to run; throws {@link ConfigError} when it is invalid. */
  public async load(): Promise<LoadedConfig> {
    let read: ConfigRead;
    const known = this.cached?.version;
    try {
      read = await this.source.read(known);
    } catch (error) {
      throw new ConfigError(
        `cannot read the scanner config ${this.source.location}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (read.kind === 'unchanged') {
      if (this.cached && known !== undefined) return this.cached.config;
      throw new ConfigError(
        `the scanner config ${this.source.location} answered "unchanged" to a first read`,
      );
    }
    if (read.kind === 'missing') {
      this.cached = undefined;
      return defaultConfig({ origin: 'default', location: this.source.location });
    }
    // An invalid document is never cached: the next scan reads it again, and fails again,
    // until someone fixes it.
    const config = configFromText(read.text, {
      json: this.source.json,
      describe: `the scanner config ${this.source.location}`,
      provenance: {
        origin: this.source.origin,
        location: this.source.location,
        version: read.version,
      },
    });
    this.cached = { version: read.version, config };
    return config;
  }
}
