/** Documentation that code generates or depends on stays in step with the code. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { platformJsonSchema } from '../src/config/schema.js';
import { ErrorCodes } from '../src/errors.js';
import { VERSION } from '../src/version.js';

describe('docs', () => {
  it('docs/platform.schema.json is the schema generated from the zod schema (npm run schema)', () => {
    const onDisk = JSON.parse(readFileSync('docs/platform.schema.json', 'utf8'));
    expect(onDisk).toEqual(platformJsonSchema());
  });

  it('docs/errors.md lists every error code with its exit code', () => {
    const table = readFileSync('docs/errors.md', 'utf8');
    for (const [code, exit] of Object.entries(ErrorCodes)) {
      expect(table, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${exit} \\|`));
    }
  });

  it('src/version.ts matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});
