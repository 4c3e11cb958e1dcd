import { describe, expect, it } from 'vitest';
import { prefixLimiter, prefixOf } from '../../../../lib/collect/objects/prefix-limit.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('Function: prefixOf', () => {
  it.each([
    ['logs/2026/11/26/a.gz', 'logs/'],
    ['top-level.txt', ''],
    ['/leading-slash', '/'],
    ['new\nline/x', 'new\nline/'],
  ])('bounds %j under %j', (key, prefix) => {
    expect(prefixOf(key)).toBe(prefix);
  });
});

describe('Function: prefixLimiter', () => {
  it('bounds each prefix on its own and forgets idle prefixes', async () => {
    // Prepare
    const limit = prefixLimiter(3);
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    let peakTotal = 0;
    let total = 0;
    const task = (prefix: string) => async () => {
      running.set(prefix, (running.get(prefix) ?? 0) + 1);
      total += 1;
      peak.set(prefix, Math.max(peak.get(prefix) ?? 0, running.get(prefix) ?? 0));
      peakTotal = Math.max(peakTotal, total);
      await tick();
      running.set(prefix, (running.get(prefix) ?? 0) - 1);
      total -= 1;
      return prefix;
    };

    // Act
    const pending = ['a/', 'b/', 'c/'].flatMap((prefix) =>
      Array.from({ length: 20 }, () => limit(prefix, task(prefix))),
    );
    const midway = limit.activePrefixes;
    const results = await Promise.all(pending);

    // Assess
    expect(results.filter((r) => r === 'b/')).toHaveLength(20);
    expect([...peak.values()]).toEqual([3, 3, 3]);
    expect(peakTotal).toBe(9);
    expect(midway).toBe(3);
    expect(limit.activePrefixes).toBe(0);
  });

  it('releases the slot of a task that fails', async () => {
    // Prepare
    const limit = prefixLimiter(1);

    // Act
    const failed = limit('p/', () => Promise.reject(new Error('SlowDown')));
    const next = limit('p/', async () => 'ran');

    // Assess
    await expect(failed).rejects.toThrow('SlowDown');
    await expect(next).resolves.toBe('ran');
    expect(limit.activePrefixes).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => prefixLimiter(0)).toThrow(/positive integer, got 0/);
  });
});
