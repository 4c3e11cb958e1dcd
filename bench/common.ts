/** One benchmark figure, printed as a JSON line (DESIGN.md section 6). */
export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  note: string;
}

/** Prints a figure as one JSON line on stdout. */
export function report(figure: Figure): void {
  const value = Number.isInteger(figure.value) ? figure.value : Number(figure.value.toFixed(3));
  process.stdout.write(`${JSON.stringify({ ...figure, value })}\n`);
}

/** Wall-clock milliseconds of an async function. */
export async function timeIt<T>(fn: () => Promise<T> | T): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - start };
}
