import { CollectError } from '../errors.js';

/** One page of a NextToken listing: its items and the token of the next, if any. */
export interface TokenPage<T> {
  items: T[];
  next: string | undefined;
}

/**
 * Every page of a NextToken listing, in order. Only a missing (or empty) token ends it: AWS
 * may answer an empty page that still carries one. A token seen before would loop for ever
 * (AWS never does that, a bad proxy might), so it is an error naming the call. Errors of a
 * page propagate as they came, for the caller to classify.
 */
export async function tokenPages<T>(
  call: string,
  page: (token: string | undefined) => Promise<TokenPage<T>>,
): Promise<T[]> {
  const items: T[] = [];
  const tokens = new Set<string>();
  let token: string | undefined;
  do {
    const answer = await page(token);
    items.push(...answer.items);
    token = answer.next || undefined;
    if (token && tokens.has(token))
      throw new CollectError(`${call} returned the NextToken ${token} twice`);
    if (token) tokens.add(token);
  } while (token);
  return items;
}
