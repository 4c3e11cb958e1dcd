import { PolicyParseError } from '../errors.js';
import type { EnforcingStatement, PolicyLayerDocument, PolicyVerdicts } from './analysis-types.js';
import { type ConcreteRequest, denyingStatements } from './decide.js';
import type { ParsedPolicy, PolicyStatement } from './parse.js';
import { nestsTooDeep, parsePolicy } from './parse.js';
import { probePrincipals } from './requests.js';
import {
  KEY_KMS_KEY_ID,
  KEY_SECURE_TRANSPORT,
  KEY_SSE,
  KEY_SSE_C,
  KEY_TLS_VERSION,
  TLS_VERSIONS,
} from './simulation.js';

// Organisation policies judged together with the bucket policy. IAM denies a request that any
// applicable policy explicitly denies, so the Deny statements of an RCP join the bucket
// policy's as they are; AWS permits no other effect in a customer RCP, and the Allow of
// RCPFullAWSAccess grants nothing a resource policy needs (effective-policies.md 2.1).

/** How a person names an organisation policy: `RCP p-abc 'EnforceTLS' attached to ou-x`. */
export function layerName(
  layer: Pick<PolicyLayerDocument, 'kind' | 'policyId' | 'policyName' | 'attachedTo'>,
): string {
  if (layer.kind === 'access-point')
    return `the policy of ${layer.policyId.includes(':s3::') ? 'Multi-Region Access Point' : 'access point'} '${layer.policyName}'`;
  return `${layer.kind.toUpperCase()} ${layer.policyId} '${layer.policyName}' attached to ${layer.attachedTo}`;
}

/** A string matched literally inside a regular expression. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * An access point policy names its own ARNs (`…:accesspoint/NAME` and
 * `…:accesspoint/NAME/object/KEY`); requests through it reach the bucket's, so for judging
 * they are rewritten to the bucket ARN and `bucket/KEY` (wildcards kept).
 */
function onBucket(document: string, accessPointArn: string, bucketArn: string): string {
  return document
    .replace(new RegExp(`${literally(accessPointArn)}/object/`, 'g'), `${bucketArn}/`)
    .replace(new RegExp(`${literally(accessPointArn)}(?=["/])`, 'g'), bucketArn);
}

/**
 * An SCP names no principal (it constrains the account's own); judged as `Principal: "*"` so
 * the caller can ask what it would deny the organisation's principals.
 */
function withPrincipal(document: string): unknown {
  // Left as text: the parser refuses it with its own message.
  if (nestsTooDeep(document)) return document;
  let parsed: unknown;
  try {
    parsed = JSON.parse(document.charCodeAt(0) === 0xfeff ? document.slice(1) : document);
  } catch {
    return document;
  }
  const statements = (parsed as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  for (const statement of list)
    if (
      statement &&
      typeof statement === 'object' &&
      !('Principal' in statement) &&
      !('NotPrincipal' in statement)
    )
      (statement as Record<string, unknown>).Principal = '*';
  return parsed;
}

/**
 * The Deny statements of the layers, numbered after the bucket policy's own and labelled with
 * the policy they come from. Throws {@link PolicyParseError} naming the policy when one is not
 * a policy: a layer that cannot be read is never taken as one that denies nothing.
 */
export function layerStatements(
  layers: readonly PolicyLayerDocument[],
  firstIndex: number,
): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  let index = firstIndex;
  for (const layer of layers) {
    let parsed: ParsedPolicy;
    try {
      parsed = parsePolicy(
        layer.kind === 'scp'
          ? withPrincipal(layer.document)
          : layer.kind === 'access-point'
            ? onBucket(layer.document, layer.policyId, layer.attachedTo)
            : layer.document,
      );
    } catch (error) {
      throw new PolicyParseError(
        `${layerName(layer)} could not be analysed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    for (const statement of parsed.statements) {
      if (statement.effect !== 'Deny') continue;
      statements.push({
        ...statement,
        index: index++,
        label: `${layerName(layer)}, ${statement.label}`,
        layer: {
          kind: layer.kind,
          policyId: layer.policyId,
          policyName: layer.policyName,
          attachedTo: layer.attachedTo,
        },
      });
    }
  }
  return statements;
}

function describe(statement: PolicyStatement): EnforcingStatement {
  return statement.layer
    ? {
        layer: statement.layer.kind,
        statement: statement.label,
        policyId: statement.layer.policyId,
        policyName: statement.layer.policyName,
        attachedTo: statement.layer.attachedTo,
      }
    : { layer: 'bucket-policy', statement: `bucket policy ${statement.label}` };
}

/** The Deny statements that deny any of the requests, once each, in policy order. */
function denying(policy: ParsedPolicy, requests: ConcreteRequest[]): EnforcingStatement[] {
  const found = new Set<PolicyStatement>();
  for (const request of requests)
    for (const statement of denyingStatements(policy, request).denying) found.add(statement);
  return [...found].sort((a, b) => a.index - b.index).map(describe);
}

/**
 * For each verdict that holds, the statements that deny its representative requests (every
 * principal class; a bucket read, an object read and an upload): who enforces it. The
 * verdicts themselves come from the full simulation; this only names the deciders.
 */
export function enforcingStatements(
  policy: ParsedPolicy,
  verdicts: PolicyVerdicts,
  target: {
    bucketArn: string;
    accountId: string;
    otherKeyArn: string;
    /** Keys every upload carries (an access point's path). */
    uploadContext?: Record<string, string>;
  },
): Partial<Record<keyof PolicyVerdicts, EnforcingStatement[]>> {
  const principals = probePrincipals(target.accountId);
  const object = `${target.bucketArn}/s3scan-probe-object`;
  const over = (actions: [string, string][], context: Record<string, string>): ConcreteRequest[] =>
    principals.flatMap((principal) =>
      actions.map(([action, resource]) => ({ principal, action, resource, context })),
    );
  const everyKind: [string, string][] = [
    ['s3:ListBucket', target.bucketArn],
    ['s3:GetObject', object],
    ['s3:PutObject', object],
  ];
  const upload: [string, string][] = [['s3:PutObject', object]];
  const tls = {
    ...target.uploadContext,
    [KEY_SECURE_TRANSPORT]: 'true',
    [KEY_TLS_VERSION]: '1.3',
  };
  const result: Partial<Record<keyof PolicyVerdicts, EnforcingStatement[]>> = {};
  const keep = (verdict: keyof PolicyVerdicts, found: EnforcingStatement[]) => {
    if (found.length > 0) result[verdict] = found;
  };
  if (verdicts.tlsEnforced)
    keep('tlsEnforced', denying(policy, over(everyKind, { [KEY_SECURE_TRANSPORT]: 'false' })));
  if (verdicts.tlsMinVersion) {
    const below = TLS_VERSIONS[TLS_VERSIONS.indexOf(verdicts.tlsMinVersion) - 1];
    if (below)
      keep(
        'tlsMinVersion',
        denying(
          policy,
          over(everyKind, { [KEY_SECURE_TRANSPORT]: 'true', [KEY_TLS_VERSION]: below }),
        ),
      );
  }
  if (verdicts.sseEnforced === true) keep('sseEnforced', denying(policy, over(upload, tls)));
  if (verdicts.kmsKeyEnforced === true)
    keep(
      'kmsKeyEnforced',
      denying(
        policy,
        over(upload, { ...tls, [KEY_SSE]: 'aws:kms', [KEY_KMS_KEY_ID]: target.otherKeyArn }),
      ),
    );
  if (verdicts.sseCBlocked === true)
    keep('sseCBlocked', denying(policy, over(upload, { ...tls, [KEY_SSE_C]: 'AES256' })));
  return result;
}
