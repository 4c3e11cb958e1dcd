const cache = new Map<string, RegExp>();

/**
 * IAM wildcard match: `*` is any run of characters, `?` is exactly one. Actions compare
 * case-insensitively, ARNs case-sensitively.
 */
export function globMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const cacheKey = `${ignoreCase ? 'i' : 's'}\u0000${pattern}`;
  let regex = cache.get(cacheKey);
  if (!regex) {
    let source = '';
    for (const ch of pattern) {
      if (ch === '*') source += '.*';
      else if (ch === '?') source += '.';
      else source += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    }
    regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    // Bound the cache so a hostile stream of distinct patterns cannot grow memory forever.
    if (cache.size > 10_000) cache.clear();
    cache.set(cacheKey, regex);
  }
  return regex.test(value);
}
