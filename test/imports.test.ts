/**
 * No import cycles in the product code (src/ and steps/): every import counts — static, type-only, re-exports
 * and lazy import() — because a cycle through a type still ties two modules' designs together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** Every .ts file under `dir`, relative to the repo root. */
function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const SPECIFIER = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The repo-relative files a source file imports (relative specifiers only: packages cannot import us back). */
function importsOf(file: string, text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2];
    if (!spec?.startsWith('.')) continue;
    out.add(path.relative(root, path.resolve(root, path.dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return [...out];
}

/** The cycles of a graph: each strongly connected component with more than one node (or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
        on.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1 || graph.get(v)?.includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe('imports', () => {
  it('the cycle finder finds a cycle through a type import and a lazy import()', () => {
    const graph = new Map([
      ['a.ts', importsOf('a.ts', "import type { B } from './b.js';")],
      ['b.ts', importsOf('b.ts', "const c = await import('./c.js');")],
      ['c.ts', importsOf('c.ts', "export { a } from './a.js';")],
      ['d.ts', importsOf('d.ts', "import { a } from './a.js';")],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('src/ and steps/ have no import cycle', () => {
    const graph = new Map<string, string[]>();
    for (const file of [...sources('src'), ...sources('steps')]) {
      graph.set(file, importsOf(file, readFileSync(path.join(root, file), 'utf8')));
    }
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });

  // A value import of '@aws-sdk/client-*' anywhere else would bundle every operation of that client (EC2's chunk
  // was ~1 MB): the clients and commands come from src/aws/<client>.ts, which re-export them by name.
  it('AWS SDK clients are imported (as values) only through their re-export modules in src/aws', () => {
    const sdkValue =
      /(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s*['"](@aws-sdk\/client-[^'"]+)['"]|import\(\s*['"](@aws-sdk\/client-[^'"]+)['"]\s*\)/g;
    const reExport = (file: string, text: string) =>
      /^src\/aws\/[a-z0-9]+\.ts$/.test(file) &&
      /^(\/\*\*[\s\S]*?\*\/\n)?export \{[^}]*\} from '@aws-sdk\/client-[a-z0-9-]+';\n$/.test(text);
    expect([...'import { EC2Client } from "@aws-sdk/client-ec2";'.matchAll(sdkValue)]).toHaveLength(1);
    expect([...'const { X } = await import("@aws-sdk/client-iam");'.matchAll(sdkValue)]).toHaveLength(1);
    expect([...'import type { IAMClient } from "@aws-sdk/client-iam";'.matchAll(sdkValue)]).toHaveLength(0);
    const offenders: string[] = [];
    let reExports = 0;
    for (const file of [...sources('src'), ...sources('steps')]) {
      const text = readFileSync(path.join(root, file), 'utf8');
      if (reExport(file, text)) reExports++;
      else for (const m of text.matchAll(sdkValue)) offenders.push(`${file}: ${m[1] ?? m[2]}`);
    }
    expect(offenders).toEqual([]);
    expect(reExports).toBeGreaterThanOrEqual(8);
  });
});
