/**
 * Preflight's memo on its own: what it keeps on disk, when a remembered key or tool no longer counts, and which
 * binaries it refuses to remember (shims choose their version at run time).
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileDigest, preflightMemo, toolIdentity } from '../../src/preflight/memo.js';
import { VERSION } from '../../src/version.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'platctl-memo-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const day = 86_400_000;
/** A small native executable to copy under the tools' names. */
const NATIVE = '/usr/bin/true';
const t0 = new Date('2026-06-01T00:00:00Z');

describe('preflightMemo', () => {
  it('keeps passing tools and keys in its file, 0600, and finds them again by their evidence', async () => {
    const file = path.join(dir, 'home', 'preflight-memo.json');
    const a = preflightMemo(file);
    a.rememberTool('helm@3.12', 'id-1', 'helm v3.19.5');
    a.rememberKey('abc', 'FPR1', t0, new Date(t0.getTime() + 10 * day));
    await a.save();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const b = preflightMemo(file);
    expect(b.tool('helm@3.12', 'id-1')).toBe('helm v3.19.5');
    expect(b.tool('helm@3.12', 'id-2')).toBeUndefined();
    expect(b.tool('helm@3.13', 'id-1')).toBeUndefined();
    expect(b.key('abc', new Date(t0.getTime() + day))).toBe('FPR1');
    expect(b.key('abd', new Date(t0.getTime() + day))).toBeUndefined();
  });

  it('trusts a key only between when it was checked and when it expires', () => {
    const m = preflightMemo();
    m.rememberKey('k', 'FPR', t0, new Date(t0.getTime() + day));
    m.rememberKey('forever', 'FPR2', t0);
    expect(m.key('k', new Date(t0.getTime() - 1))).toBeUndefined();
    expect(m.key('k', t0)).toBe('FPR');
    expect(m.key('k', new Date(t0.getTime() + day))).toBeUndefined();
    expect(m.key('forever', new Date(t0.getTime() + 3650 * day))).toBe('FPR2');
  });

  it("ignores another platctl version's file, and a broken one", () => {
    const file = path.join(dir, 'other.json');
    writeFileSync(
      file,
      JSON.stringify({ version: `${VERSION}-other`, tools: { x: { identity: 'i', detail: 'd' } }, keys: {} }),
    );
    expect(preflightMemo(file).tool('x', 'i')).toBeUndefined();
    writeFileSync(file, '{ not json');
    expect(preflightMemo(file).tool('x', 'i')).toBeUndefined();
  });

  it('writes nothing when nothing was learnt, and never fails the run when it cannot write', async () => {
    const file = path.join(dir, 'untouched.json');
    await preflightMemo(file).save();
    expect(() => statSync(file)).toThrow();
    const blocked = path.join(dir, 'a-file');
    writeFileSync(blocked, '');
    const m = preflightMemo(path.join(blocked, 'memo.json'));
    m.rememberTool('git@2.30', 'id', 'git 2.39.5');
    await expect(m.save()).resolves.toBeUndefined();
  });

  it('digests bytes with SHA-256', () => {
    expect(fileDigest(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('toolIdentity', () => {
  const bin = (name: string) => path.join(dir, name);

  it('names the native binary PATH finds first, and changes when that binary changes', () => {
    const [first, second] = [bin('p1'), bin('p2')];
    mkdirSync(first);
    mkdirSync(second);
    copyFileSync(NATIVE, path.join(second, 'tofu'));
    writeFileSync(path.join(first, 'tofu'), 'not executable');
    const PATH = [first, second].join(path.delimiter);
    const id = toolIdentity(['tofu', 'terraform'], PATH);
    expect(id).toMatch(new RegExp(`^${path.join(second, 'tofu')}\\|`));
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(second, 'tofu'), later, later);
    expect(toolIdentity(['tofu'], PATH)).not.toBe(id);
    expect(toolIdentity(['helm'], PATH)).toBeUndefined();
  });

  it('refuses shims: a script, or one binary behind several names', () => {
    const shims = bin('shims');
    mkdirSync(shims);
    writeFileSync(path.join(shims, 'helm'), '#!/bin/sh\nexec asdf exec helm "$@"\n');
    chmodSync(path.join(shims, 'helm'), 0o755);
    copyFileSync(NATIVE, path.join(shims, 'mise'));
    symlinkSync(path.join(shims, 'mise'), path.join(shims, 'tofu'));
    expect(toolIdentity(['helm'], shims)).toBeUndefined();
    expect(toolIdentity(['tofu'], shims)).toBeUndefined();
  });
});
