/**
 * PGP key validation: armored, binary and base64-of-binary public keys are accepted; private, expired, revoked,
 * signing-only, garbage and multi-key files are refused with an error naming the file and echoing nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPgpMessage, readPgpPublicKey, readPgpPublicKeys } from '../../src/vault/pgp.js';
import { makeKey, type TestKey, writePrivateKeyFile } from '../helpers/pgp-keys.js';

let dir: string;
let good: TestKey;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'platctl-pgp-'));
  good = await makeKey(dir, 'alice');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error thrown by reading `file`, asserted to be a USAGE error naming it. */
async function refusal(file: string): Promise<{ message: string; hint?: string; code: string }> {
  const err = (await readPgpPublicKey(file).catch((e: unknown) => e)) as {
    message: string;
    hint?: string;
    code: string;
  };
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('USAGE');
  expect(err.message).toContain(file);
  return err;
}

describe('readPgpPublicKey', () => {
  it('accepts an armored public key and returns base64 of its binary form and its fingerprint', async () => {
    const k = await readPgpPublicKey(good.publicFile);
    expect(k.fingerprint).toBe(good.fingerprint);
    expect(k.userIds).toEqual(['alice <alice@example.test>']);
    const parsed = await openpgp.readKey({ binaryKey: new Uint8Array(Buffer.from(k.base64, 'base64')) });
    expect(parsed.isPrivate()).toBe(false);
    expect(parsed.getFingerprint().toUpperCase()).toBe(good.fingerprint);
  });

  it('accepts a binary key file and a base64-of-binary file (as `gpg --export | base64` writes)', async () => {
    const bin = await makeKey(dir, 'bob', 'binary');
    const k = await readPgpPublicKey(bin.publicFile);
    expect(k.fingerprint).toBe(bin.fingerprint);
    const b64File = path.join(dir, 'bob.b64');
    await writeFile(b64File, `${k.base64.replace(/(.{64})/g, '$1\n')}\n`);
    expect((await readPgpPublicKey(b64File)).fingerprint).toBe(bin.fingerprint);
  });

  it('refuses an armored private key without echoing any of it', async () => {
    const { file, content } = await writePrivateKeyFile(dir, good);
    const err = await refusal(file);
    expect(err.message).toMatch(/PRIVATE key/);
    const body = content.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    for (const line of body) {
      expect(err.message).not.toContain(line);
      expect(err.hint ?? '').not.toContain(line);
    }
  });

  it('refuses a binary private key too', async () => {
    const priv = await openpgp.readPrivateKey({ armoredKey: good.privateArmored });
    const file = path.join(dir, 'alice-private.gpg');
    await writeFile(file, priv.write());
    expect((await refusal(file)).message).toMatch(/PRIVATE key/);
  });

  it('refuses an expired key', async () => {
    const k = await makeKey(dir, 'carol', 'expired');
    expect((await refusal(k.publicFile)).message).toMatch(new RegExp(`key ${k.fingerprint} expired on `));
  });

  it('refuses a revoked key', async () => {
    const k = await makeKey(dir, 'dave', 'revoked');
    expect((await refusal(k.publicFile)).message).toContain(`key ${k.fingerprint} is revoked`);
  });

  it('refuses a signing-only key (no encryption subkey)', async () => {
    const k = await makeKey(dir, 'erin', 'sign-only');
    expect((await refusal(k.publicFile)).message).toContain('cannot encrypt');
  });

  it('refuses garbage, an empty file, a missing file and a file with two keys', async () => {
    const garbage = path.join(dir, 'garbage.asc');
    await writeFile(garbage, 'this is not a key at all, just words\n');
    expect((await refusal(garbage)).message).toContain('is not an OpenPGP public key');
    const empty = path.join(dir, 'empty.asc');
    await writeFile(empty, '');
    expect((await refusal(empty)).message).toContain('is not an OpenPGP public key');
    expect((await refusal(path.join(dir, 'nope.asc'))).message).toContain('cannot read the file (ENOENT)');
    const other = await makeKey(dir, 'frank');
    const two = path.join(dir, 'two.gpg');
    const a = await readPgpPublicKey(good.publicFile);
    const b = await readPgpPublicKey(other.publicFile);
    await writeFile(two, Buffer.concat([Buffer.from(a.base64, 'base64'), Buffer.from(b.base64, 'base64')]));
    expect((await refusal(two)).message).toContain('holds 2 keys');
  });

  it('readPgpPublicKeys keeps order and stops at the first bad file', async () => {
    const other = await makeKey(dir, 'grace');
    const keys = await readPgpPublicKeys([other.publicFile, good.publicFile]);
    expect(keys.map((k) => k.fingerprint)).toEqual([other.fingerprint, good.fingerprint]);
    const bad = path.join(dir, 'bad.asc');
    await writeFile(bad, 'x');
    await expect(readPgpPublicKeys([good.publicFile, bad])).rejects.toThrow(bad);
  });
});

describe('isPgpMessage', () => {
  it('tells a PGP-encrypted share from a plaintext one', async () => {
    const key = await openpgp.readKey({ armoredKey: (await import('node:fs')).readFileSync(good.publicFile, 'utf8') });
    const enc = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: 'abcdef0123' }),
      encryptionKeys: key,
      format: 'binary',
    });
    expect(await isPgpMessage(Buffer.from(enc as Uint8Array).toString('base64'))).toBe(true);
    expect(await isPgpMessage(Buffer.from('a1b2c3d4e5f6').toString('base64'))).toBe(false);
    expect(await isPgpMessage('')).toBe(false);
  });
});
