import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The files a bundle loads when it starts: the file and, transitively, every chunk it imports
 * statically (`import … from "./chunks/…"`); chunks behind `import()` are not in it.
 */
export function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(
    /import\s*(?:\{[^}]*\}|[\w$]+|\*\s*as\s*[\w$]+)?\s*(?:from\s*)?"(\.\.?\/[^"]+)"/g,
  ))
    staticGraph(join(dirname(file), match[1]!), seen);
  return seen;
}
