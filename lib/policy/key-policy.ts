import { actionMatches } from './match.js';
import { type ConditionClause, type PolicyStatement, parsePolicy } from './parse.js';

// Who a KMS key policy lets decrypt. Encryption under a key that anyone may use for
// kms:Decrypt protects nothing: AWS says not to set Principal "*" in an Allow "unless you use
// conditions to limit the key policy" (effective-policies.md section 5).

/** KMS key policies may be 32 KB. */
const MAX_KEY_POLICY_BYTES = 32 * 1024;

/**
 * Condition keys that pin who the caller is, when tested with a positive operator: they turn
 * `Principal: "*"` into named accounts or an organisation. `kms:ViaService` alone does not.
 */
const CALLER_KEYS = new Set([
  'kms:calleraccount',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalarn',
  'aws:userid',
  'aws:sourceaccount',
  'aws:sourceorgid',
]);

const POSITIVE = new Set([
  'stringequals',
  'stringequalsignorecase',
  'stringlike',
  'arnequals',
  'arnlike',
]);

/** The accounts a caller-pinning clause names (12-digit ids, or inside ARNs). */
function pinnedAccounts(clause: ConditionClause): string[] {
  return clause.values.flatMap((v) => /(\d{12})/.exec(v)?.[1] ?? []);
}

/** A clause that narrows who may call: a positive test of a caller key, no bare wildcard. */
function narrows(clause: ConditionClause): boolean {
  return (
    CALLER_KEYS.has(clause.keyLower) &&
    POSITIVE.has(clause.base) &&
    clause.values.length > 0 &&
    clause.values.every((v) => v !== '*' && v !== '')
  );
}

/** What a key policy grants for kms:Decrypt. */
export interface DecryptAccess {
  /** Allow statements that let any principal of any account decrypt: no narrowing condition. */
  openTo: string[];
  /** Accounts named (in Principal, or a caller condition) that may decrypt. */
  accounts: string[];
  /** Service principals allowed to decrypt (e.g. `logs.amazonaws.com`). */
  services: string[];
  /** Open Allow statements a Deny narrows again (Deny unless an account or organisation). */
  narrowedByDeny: string[];
}

function label(statement: PolicyStatement): string {
  return statement.sid ? `Sid "${statement.sid}"` : `statement #${statement.index}`;
}

/**
 * Who may use the key for kms:Decrypt according to its policy (grants aside). Throws
 * {@link PolicyParseError} for a document that is not a policy.
 *
 * @example
 * decryptAccess('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}').openTo
 * // ['statement #0']
 */
export function decryptAccess(document: string): DecryptAccess {
  const policy = parsePolicy(document, { maxBytes: MAX_KEY_POLICY_BYTES, kind: 'key policies' });
  const decrypting = policy.statements.filter(
    (s) => actionMatches(s, 'kms:Decrypt') && !s.principal.negated,
  );
  // A Deny on every principal unless it is of named accounts or the organisation narrows an
  // open Allow again (the data-perimeter pattern).
  const denies = decrypting.filter(
    (s) =>
      s.effect === 'Deny' &&
      s.principal.any &&
      s.conditions.some(
        (c) =>
          CALLER_KEYS.has(c.keyLower) &&
          c.base.includes('not') &&
          (c.base.startsWith('string') || c.base.startsWith('arn')),
      ),
  );
  const openTo: string[] = [];
  const narrowedByDeny: string[] = [];
  const accounts = new Set<string>();
  const services = new Set<string>();
  for (const statement of decrypting) {
    if (statement.effect !== 'Allow') continue;
    const pins = statement.conditions.filter(narrows);
    for (const clause of pins) for (const account of pinnedAccounts(clause)) accounts.add(account);
    if (statement.principal.any && pins.length === 0) {
      if (denies.length > 0) narrowedByDeny.push(label(statement));
      else openTo.push(label(statement));
      continue;
    }
    for (const entry of statement.principal.aws) {
      const account = /^\d{12}$/.test(entry)
        ? entry
        : /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(entry)?.[1];
      if (account) accounts.add(account);
    }
    for (const other of statement.principal.other)
      if (other.startsWith('Service:')) services.add(other.slice('Service:'.length));
  }
  return {
    openTo,
    accounts: [...accounts].sort(),
    services: [...services].sort(),
    narrowedByDeny,
  };
}
