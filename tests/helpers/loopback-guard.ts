import { isIP, Socket } from 'node:net';

/** Every outgoing TCP connection a guarded block tried, and which of them were blocked. */
export interface LoopbackGuard {
  /** Hosts of connections that would have left 127.0.0.1 (they were refused). */
  leaks: string[];
  /** Hosts of every connection attempted. */
  attempts: string[];
  restore: () => void;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/**
 * Refuses, and records, every TCP connection to anything but the loopback range, before any
 * DNS lookup. `http`, `https` and `tls` all connect through `net.Socket#connect`, so one
 * patch covers the SDK's handler, s3scan's direct transport and anything else in-process.
 */
export function guardLoopback(): LoopbackGuard {
  const original = Socket.prototype.connect;
  const leaks: string[] = [];
  const attempts: string[] = [];
  Socket.prototype.connect = function guarded(this: Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as
      | { host?: string; path?: string; port?: number }
      | number
      | string;
    // A Unix socket path never leaves the machine.
    if (typeof options === 'object' && options?.path) return original.apply(this, args as never);
    const host =
      typeof options === 'object'
        ? (options.host ?? 'localhost')
        : typeof options === 'number'
          ? typeof args[1] === 'string'
            ? args[1]
            : 'localhost'
          : 'localhost';
    attempts.push(host);
    if (!isLoopback(host)) {
      leaks.push(host);
      process.nextTick(() =>
        this.destroy(
          Object.assign(new Error(`loopback guard: connection to ${host} refused`), {
            code: 'ECONNREFUSED',
          }),
        ),
      );
      return this;
    }
    return original.apply(this, args as never);
  } as typeof original;
  return {
    leaks,
    attempts,
    restore: () => {
      Socket.prototype.connect = original;
    },
  };
}
