import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';

// Bounded, so a hostile stream of distinct patterns cannot grow memory forever.
const cache = /* @__PURE__ */ new LRUCache<string, (value: string) => boolean>({
  maxSize: 10_000,
});

/** Compiles an IAM wildcard pattern into a matcher; reuse it for many values. */
export function compileGlob(pattern: string, ignoreCase: boolean): (value: string) => boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const star = p.indexOf('*');
  const hasQuestion = p.includes('?');
  // Most patterns are literals, "*", or "prefix*": answer those without a regular expression.
  if (!hasQuestion && star === -1) {
    return ignoreCase ? (v) => v.toLowerCase() === p : (v) => v === p;
  }
  if (!hasQuestion && star === p.length - 1) {
    const prefix = p.slice(0, -1);
    return ignoreCase ? (v) => v.toLowerCase().startsWith(prefix) : (v) => v.startsWith(prefix);
  }
  let source = '';
  for (const ch of p) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
  return (v) => regex.test(v);
}

/**
 * IAM wildcard match: `*` is any run of characters, `?` is exactly one. Actions compare
 * case-insensitively, ARNs case-sensitively.
 */
export function globMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const cacheKey = `${ignoreCase ? 'i' : 's'}\u0000${pattern}`;
  let matcher = cache.get(cacheKey);
  if (!matcher) {
    matcher = compileGlob(pattern, ignoreCase);
    cache.add(cacheKey, matcher);
  }
  return matcher(value);
}
