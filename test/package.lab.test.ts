/**
 * An integration test, in the lab project though it needs no lab component: it runs npm itself (pack, and an
 * install that may reach the registry), ~45 s on 2 cores, which the no-lab unit lane (under 30 s) cannot hold.
 * The package as a new user gets it: `npm pack` (its `prepack` builds dist/), then `npm install -g` of the
 * tarball into a temporary prefix with install scripts disabled, then the installed `platctl --version` and
 * `platctl config schema`. The pack runs in a copy of the sources, so it never empties the worktree's dist/
 * under a CLI another test file is running. The install fetches dependencies from the registry through the
 * usual npm cache (`--prefer-offline`).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';

const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {
  version: string;
  files: string[];
};
let tmp: string;
let prefix: string;
let packed: { filename: string; files: { path: string }[] };

/** npm's own variables (set when the tests run under `npm run`) stay out: the child npm reads only its config. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  // The installed bin's `#!/usr/bin/env node` finds the node running these tests (the project's Node 24).
  return { ...env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}` };
}

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 240_000 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${(r.stderr ?? '').slice(-3000)}`);
  return r.stdout;
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'platctl-package-'));
  const tree = path.join(tmp, 'tree');
  mkdirSync(tree);
  // What the build reads and what `files` ships; dist/ is left behind, so the packed one is prepack's.
  const copied = ['package.json', 'README.md', 'src', 'steps', 'scripts', ...pkg.files.filter((f) => f !== 'dist')];
  for (const f of copied) cpSync(path.join(packageRoot, f), path.join(tree, f), { recursive: true });
  symlinkSync(path.join(packageRoot, 'node_modules'), path.join(tree, 'node_modules'));
  const out = ok(run('npm', ['pack', '--json', '--pack-destination', tmp], tree), 'npm pack');
  packed = (JSON.parse(out.slice(out.indexOf('['))) as (typeof packed)[])[0]!;
  prefix = path.join(tmp, 'prefix');
  const args = ['install', '-g', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'];
  ok(run('npm', [...args, '--prefix', prefix, path.join(tmp, packed.filename)], tmp), 'npm install -g');
}, 300_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the built CLI and no sources or tests', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toContain('dist/main.js');
    expect(files).toContain('bin/platctl');
    expect(files.filter((f) => /^(src|steps|test|scripts)\//.test(f))).toEqual([]);
  });

  it('installs with no install script for npm to run or warn about', () => {
    const installed = path.join(prefix, 'lib', 'node_modules', 'platctl');
    const { scripts = {} } = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    const installScripts = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => s in scripts);
    expect(installScripts).toEqual([]);
    expect(existsSync(path.join(installed, 'dist', 'main.js'))).toBe(true);
  });

  it('every package the installed dist/ imports is one of its dependencies (what it bundles is not)', () => {
    const installed = path.join(prefix, 'lib', 'node_modules', 'platctl');
    const { dependencies = {} } = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const dist = path.join(installed, 'dist');
    const code = readdirSync(dist, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(path.join(dist, f), 'utf8'))
      .join('\n');
    const specifiers = [
      ...code.matchAll(/(?:\bfrom\s*|\bimport\(\s*)["'](?!\.)((?:@[\w.-]+\/)?[\w.-]+(?:\/[\w./-]+)?)["']/g),
    ].map((m) => m[1]!);
    const packages = new Set(
      specifiers
        .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
        .map((s) =>
          s
            .split('/')
            .slice(0, s.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    );
    expect(packages.size).toBeGreaterThan(0);
    expect([...packages].filter((p) => !(p in dependencies))).toEqual([]);
    expect(Object.keys(dependencies).filter((d) => d.startsWith('@aws-sdk/') || d === 'commander')).toEqual([]);
  });

  it('platctl --version from the prefix prints package.json version', () => {
    const out = ok(run(path.join(prefix, 'bin', 'platctl'), ['--version'], tmp), 'platctl --version');
    expect(out.trim()).toBe(pkg.version);
  });

  it('platctl config schema from the prefix prints the JSON Schema naming clusters', () => {
    const out = ok(run(path.join(prefix, 'bin', 'platctl'), ['config', 'schema'], tmp), 'platctl config schema');
    const schema = JSON.parse(out) as { properties?: Record<string, unknown> };
    expect(Object.keys(schema.properties ?? {})).toContain('clusters');
  });
});
