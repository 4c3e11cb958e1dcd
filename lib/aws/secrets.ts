import {
  GetParameterCommand,
  type GetParameterCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ConfigError } from '../errors.js';
import { errorCode, httpStatus } from './errors.js';

/**
 * Reads a secret (the Slack webhook URL) from an SSM SecureString parameter, decrypted. The
 * value never appears in an error: only the parameter's name and what went wrong.
 */
export async function readSecureString(ssm: SSMClient, name: string): Promise<string> {
  let out: GetParameterCommandOutput;
  try {
    out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ParameterNotFound')
      throw new ConfigError(
        `the SSM parameter ${name} does not exist; store the webhook URL there as a SecureString`,
      );
    throw new ConfigError(
      `cannot read the SSM parameter ${name}: ${code}${httpStatus(error) ? ` (HTTP ${httpStatus(error)})` : ''}`,
      { cause: error },
    );
  }
  const parameter = out.Parameter;
  if (parameter?.Type !== 'SecureString')
    throw new ConfigError(
      `the SSM parameter ${name} is a ${parameter?.Type ?? 'parameter of unknown type'}; a secret must be a SecureString`,
    );
  if (!parameter.Value) throw new ConfigError(`the SSM parameter ${name} is empty`);
  return parameter.Value;
}
