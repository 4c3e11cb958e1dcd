import { evaluateConditions, type Tri } from './conditions.js';
import {
  actionMatches,
  principalMatches,
  type RequestPrincipal,
  resourceMatches,
} from './match.js';
import type { ParsedPolicy, PolicyStatement } from './parse.js';

/** One fully specified request against a bucket. */
export interface ConcreteRequest {
  principal: RequestPrincipal;
  action: string;
  resource: string;
  /** Request context; key names are matched case-insensitively; absent keys are absent. */
  context: Record<string, string | string[]>;
}

/**
 * Is this one request explicitly denied by the policy? The same statement matching and
 * condition evaluation the verdicts are built on, exposed for differential testing and for
 * "what if" questions. `unknown` when a condition uses something s3scan does not evaluate.
 *
 * @example
 * explicitlyDenied(parsePolicy(doc), { principal: { kind: 'anonymous' }, action: 's3:GetObject',
 *   resource: 'arn:aws:s3:::b/k', context: { 'aws:SecureTransport': 'false' } });
 */
export function explicitlyDenied(policy: ParsedPolicy, request: ConcreteRequest): Tri {
  const { denying, unknown } = denyingStatements(policy, request);
  return denying.length > 0 ? true : unknown ? 'unknown' : false;
}

/**
 * The Deny statements that deny this one request, so a finding can name them; `unknown` is
 * true when some statement's conditions could not be evaluated.
 */
export function denyingStatements(
  policy: ParsedPolicy,
  request: ConcreteRequest,
): { denying: PolicyStatement[]; unknown: boolean } {
  const context = new Map(
    Object.entries(request.context).map(([key, value]) => [
      key.toLowerCase(),
      Array.isArray(value) ? value : [value],
    ]),
  );
  const denying: PolicyStatement[] = [];
  let unknown = false;
  for (const statement of policy.statements) {
    if (statement.effect !== 'Deny') continue;
    if (!principalMatches(statement, request.principal)) continue;
    if (!actionMatches(statement, request.action) || !resourceMatches(statement, request.resource))
      continue;
    const applies = evaluateConditions(statement.conditions, context);
    if (applies === true) denying.push(statement);
    if (applies === 'unknown') unknown = true;
  }
  return { denying, unknown };
}
