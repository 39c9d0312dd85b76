/** Documentation that code generates or depends on stays in step with the code. */
import { readFileSync } from 'node:fs';
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

  it('src/version.ts matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});
