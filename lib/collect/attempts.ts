/**
 * Real HTTP attempts, as opposed to logical calls: the SDK retries inside `send`, and the
 * direct HEAD transport retries in its own loop. Both report each attempt here, per client.
 */
const listeners = new WeakMap<object, () => void>();

/** Calls `listener` on every HTTP attempt made through `client`. */
export function onAttempt(client: object, listener: () => void): void {
  listeners.set(client, listener);
}

/** Records one HTTP attempt made through `client` (by a transport outside the SDK stack). */
export function noteAttempt(client: object): void {
  listeners.get(client)?.();
}
