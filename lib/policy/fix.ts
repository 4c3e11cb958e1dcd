import { PolicyParseError } from '../errors.js';
import {
  type AnalyzeOptions,
  analyzePolicy,
  inferPartition,
  type PolicyAnalysis,
} from './analyze.js';
import { parsePolicy } from './parse.js';

/** Which verdicts to repair. */
export interface FixOptions extends AnalyzeOptions {
  tls?: boolean;
  sseC?: boolean;
}

/** The repaired policy document, what was added, and the analysis that proves it. */
export interface FixResult {
  policy: Record<string, unknown>;
  added: string[];
  analysis: PolicyAnalysis;
}

function uniqueSid(wanted: string, statements: unknown[]): string {
  const taken = new Set(
    statements.map((s) => (s as { Sid?: unknown })?.Sid).filter((sid) => typeof sid === 'string'),
  );
  let sid = wanted;
  for (let i = 2; taken.has(sid); i++) sid = `${wanted}${i}`;
  return sid;
}

/**
 * Adds the minimal statement(s) that make `tlsEnforced` (and/or `sseCBlocked`) true, leaving
 * every existing statement exactly as it was, then re-analyses the result to prove it.
 *
 * @example
 * const { policy, added } = fixPolicy(json, { bucket: 'b', tls: true });
 */
export function fixPolicy(
  document: string | Record<string, unknown> | undefined,
  options: FixOptions,
): FixResult {
  // undefined: the bucket has no policy; the repaired one holds the added statements only.
  const before = analyzePolicy(document, options);
  const parsed = (
    document === undefined
      ? { Version: '2012-10-17', Statement: [] }
      : typeof document === 'string'
        ? JSON.parse(document)
        : structuredClone(document)
  ) as Record<string, unknown>;
  const statements: unknown[] = Array.isArray(parsed.Statement)
    ? [...parsed.Statement]
    : [parsed.Statement];
  const partition =
    options.partition ??
    (document === undefined ? 'aws' : inferPartition(parsePolicy(parsed), options.bucket));
  const bucketArn = `arn:${partition}:s3:::${options.bucket}`;
  const added: string[] = [];
  if (options.tls && !before.tlsEnforced) {
    const Sid = uniqueSid('DenyInsecureTransport', statements);
    statements.push({
      Sid,
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    added.push(Sid);
  }
  if (options.sseC && before.sseCBlocked !== true) {
    const Sid = uniqueSid('DenySSECUploads', statements);
    statements.push({
      Sid,
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `${bucketArn}/*`,
      Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
    });
    added.push(Sid);
  }
  const policy = { ...parsed, Version: parsed.Version ?? '2012-10-17', Statement: statements };
  const analysis = analyzePolicy(policy, { ...options, partition });
  if ((options.tls && !analysis.tlsEnforced) || (options.sseC && analysis.sseCBlocked !== true)) {
    throw new PolicyParseError('the repaired policy still does not enforce the requested verdicts');
  }
  return { policy, added, analysis };
}
