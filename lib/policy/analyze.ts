import type { AnalyzeOptions, PolicyAnalysis, PolicyGap } from './analysis-types.js';
import { denyingStatements } from './decide.js';
import { enforcingStatements, layerStatements } from './layers.js';
import { type ParsedPolicy, parsePolicy } from './parse.js';
import { PROBE_OBJECT_KEYS } from './requests.js';
import {
  ACCESS_POINT_KEYS,
  inferPartition,
  KEY_SECURE_TRANSPORT,
  referencesAny,
} from './simulation.js';
import { analyzeSse, analyzeTls, analyzeTlsMinVersion } from './verdicts.js';

/**
 * Decides the five verdicts of aws-facts.md section 3.3 for one bucket policy, by simulating
 * representative requests (every class of S3 action, on the bucket and its objects, from
 * anonymous, same-account and other-account principals, with and without the relevant keys)
 * against the policy with IAM's evaluation rules. Only an explicit Deny enforces.
 *
 * Throws {@link PolicyParseError} for a document that is not a policy; use
 * {@link analyzePolicySafely} at a boundary.
 *
 * @example
 * const result = analyzePolicy(policyJson, { bucket: 'my-bucket' });
 * if (!result.tlsEnforced) console.log(result.gaps[0]?.reason);
 */
export function analyzePolicy(document: unknown, options: AnalyzeOptions): PolicyAnalysis {
  // `undefined`: the bucket has no policy of its own, and only the layers can deny.
  const own: ParsedPolicy = document === undefined ? { statements: [] } : parsePolicy(document);
  const layered = options.layers?.length
    ? layerStatements(options.layers, own.statements.length)
    : [];
  const policy: ParsedPolicy =
    layered.length > 0 ? { ...own, statements: [...own.statements, ...layered] } : own;
  const gaps: PolicyGap[] = [];
  const notes: string[] = [];
  const tlsEnforced = analyzeTls(policy, options, gaps);
  const tlsMinVersion = analyzeTlsMinVersion(policy, options, gaps);
  const sse = analyzeSse(policy, options, gaps, notes);
  const partition = options.partition ?? inferPartition(policy, options.bucket);
  const headerlessUploadDenials =
    sse.sseEnforced === true
      ? denyingStatements(policy, {
          principal: { kind: 'anonymous' },
          action: 's3:PutObject',
          resource: `arn:${partition}:s3:::${options.bucket}/${PROBE_OBJECT_KEYS[0]}`,
          context: { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' },
        }).denying.map((statement) => statement.label)
      : [];
  const httpDeniers = tlsEnforced
    ? denyingStatements(policy, {
        principal: { kind: 'anonymous' },
        action: 's3:GetObject',
        resource: `arn:${partition}:s3:::${options.bucket}/${PROBE_OBJECT_KEYS[0]}`,
        context: { 'aws:SecureTransport': 'false' },
      }).denying
    : [];
  const tlsThroughAccessPointsOnly =
    httpDeniers.length > 0 &&
    httpDeniers.every(
      (s) => referencesAny(s, ACCESS_POINT_KEYS) && !referencesAny(s, [KEY_SECURE_TRANSPORT]),
    );
  // Does a Deny on the access point keys refuse direct HTTPS requests, reads and writes alike?
  const direct = (action: string, resource: string) =>
    denyingStatements(policy, {
      principal: { kind: 'same-account', account: options.accountId ?? '000000000000' },
      action,
      resource,
      context: { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' },
    }).denying.some((s) => referencesAny(s, ACCESS_POINT_KEYS));
  const objectArn = `arn:${partition}:s3:::${options.bucket}/${PROBE_OBJECT_KEYS[0]}`;
  const onlyThroughAccessPoints =
    direct('s3:GetObject', objectArn) &&
    direct('s3:PutObject', objectArn) &&
    direct('s3:ListBucket', `arn:${partition}:s3:::${options.bucket}`);
  const verdicts = {
    tlsEnforced,
    tlsMinVersion,
    sseEnforced: sse.sseEnforced,
    kmsKeyEnforced: sse.kmsKeyEnforced,
    sseCBlocked: sse.sseCBlocked,
  };
  return {
    ...verdicts,
    enforcedBy: enforcingStatements(policy, verdicts, {
      bucketArn: `arn:${partition}:s3:::${options.bucket}`,
      accountId: options.accountId ?? '000000000000',
      otherKeyArn: `arn:${partition}:kms:us-east-1:999999999999:key/00000000-0000-4000-8000-000000000000`,
      ...(options.uploadContext ? { uploadContext: options.uploadContext } : {}),
    }),
    layerDenies: layered.length,
    tlsThroughAccessPointsOnly,
    onlyThroughAccessPoints,
    gaps,
    pinnedKmsKeyArns: sse.pinned,
    headerlessUploadDenials,
    sseCRejectedAsSideEffect: sse.sseCRejectedAsSideEffect,
    notes,
  };
}

/** {@link analyzePolicy} that never throws: `{ error }` names what was wrong. */
export function analyzePolicySafely(
  document: unknown,
  options: AnalyzeOptions,
): { analysis: PolicyAnalysis } | { error: string } {
  try {
    return { analysis: analyzePolicy(document, options) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export type {
  AnalyzeOptions,
  EnforcingStatement,
  PolicyAnalysis,
  PolicyGap,
  PolicyLayerDocument,
  PolicyVerdicts,
} from './analysis-types.js';
export { inferPartition } from './simulation.js';
