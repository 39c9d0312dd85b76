/** Documentation that code generates or depends on stays in step with the code. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { platformJsonSchema } from '../src/config/schema.js';
import { ErrorCodes, errorDoc } from '../src/errors.js';
import { VERSION } from '../src/version.js';

describe('docs', () => {
  it('docs/platform.schema.json is the schema generated from the zod schema (npm run schema)', () => {
    const onDisk = JSON.parse(readFileSync('docs/platform.schema.json', 'utf8'));
    expect(onDisk).toEqual(platformJsonSchema());
  });

  it('docs/errors.md has one row per error code: its anchor, its exit code; and no row for a code that is gone', () => {
    const table = readFileSync('docs/errors.md', 'utf8');
    for (const [code, exit] of Object.entries(ErrorCodes)) {
      const anchor = errorDoc(code).split('#')[1];
      expect(table, code).toContain(`| <a id="${anchor}"></a>\`${code}\` | ${exit} |`);
    }
    const documented = [...table.matchAll(/^\| <a id="[a-z-]+"><\/a>`([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ErrorCodes).sort());
  });

  it('docs/architecture.md "Where cross-cutting behaviour lives" names files that exist', () => {
    const page = readFileSync('docs/architecture.md', 'utf8');
    const section = page.split('## Where cross-cutting behaviour lives')[1]?.split('\n## ')[0] ?? '';
    const paths = [...section.matchAll(/`((?:src|steps|test|docs)\/[\w./-]+)`/g)].map((m) => m[1] as string);
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !existsSync(p))).toEqual([]);
  });

  it('src/version.ts matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});
