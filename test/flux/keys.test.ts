/** Deploy keys made in process are real OpenSSH keys: real ssh-keygen reads, fingerprints and signs with them. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployKeyTitle, fingerprintOf, generateDeployKey } from '../../src/flux/keys.js';
import { maskSecrets } from '../../src/secrets.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-keys-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.each([
  ['ed25519', 'ssh-ed25519', '256', 'ED25519'],
  ['ecdsa-p384', 'ecdsa-sha2-nistp384', '384', 'ECDSA'],
] as const)('generateDeployKey(%s)', (type, sshType, bits, label) => {
  it('writes a private key ssh-keygen -y reads back to the same public key', async () => {
    const key = generateDeployKey(type, 'platctl-flux-demo');
    expect(key.privateKey).toMatch(
      /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/,
    );
    expect(key.publicKey).toMatch(new RegExp(`^${sshType} AAAA\\S+ platctl-flux-demo$`));
    const file = path.join(tmp, `${type}-id`);
    await writeFile(file, key.privateKey, { mode: 0o600 });
    const derived = await execa('ssh-keygen', ['-y', '-f', file]);
    expect(derived.stdout.trim().split(' ').slice(0, 2)).toEqual(key.publicKey.split(' ').slice(0, 2));
  });

  it('has the fingerprint ssh-keygen -l prints', async () => {
    const key = generateDeployKey(type, 'fp');
    const file = path.join(tmp, `${type}-fp.pub`);
    await writeFile(file, `${key.publicKey}\n`);
    const listed = await execa('ssh-keygen', ['-l', '-f', file]);
    expect(listed.stdout).toBe(`${bits} ${key.fingerprint} fp (${label})`);
    expect(fingerprintOf(key.publicKey)).toBe(key.fingerprint);
  });

  it('signs: the private half matches the public half (ssh-keygen -Y sign / check-novalidate)', async () => {
    const key = generateDeployKey(type, 'sign');
    const id = path.join(tmp, `${type}-sign`);
    await writeFile(id, key.privateKey, { mode: 0o600 });
    await writeFile(`${id}.pub`, `${key.publicKey}\n`);
    const data = path.join(tmp, `${type}-data`);
    await writeFile(data, 'fleet');
    await execa('ssh-keygen', ['-Y', 'sign', '-f', id, '-n', 'file', data]);
    const check = await execa('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', `${data}.sig`], {
      inputFile: data,
      reject: false,
    });
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stdout).toContain(`Good "file" signature with ${label} key ${key.fingerprint}`);
  });
});

describe('deploy key secrecy and naming', () => {
  it('registers the private key with the masker, which hides it wherever it is printed', () => {
    const key = generateDeployKey();
    const body = key.privateKey.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    const lines = key.privateKey.split('\n').filter((l) => l && !l.startsWith('-----'));
    // The PEM, its body without armour, one line of it, and the base64 a Secret's data holds.
    for (const leak of [
      key.privateKey,
      lines.join('\n'),
      lines.join(''),
      body,
      Buffer.from(key.privateKey).toString('base64'),
    ]) {
      const masked = maskSecrets(`oops: ${leak}`);
      expect(masked).not.toContain(leak);
      expect(masked).toContain('****');
    }
  });

  it('every key is fresh and every cluster gets its own title', () => {
    expect(generateDeployKey().fingerprint).not.toBe(generateDeployKey().fingerprint);
    expect(deployKeyTitle('a')).not.toBe(deployKeyTitle('b'));
  });

  it('rejects a line that is not a public key', () => {
    expect(() => fingerprintOf('hello world')).toThrow(/not an ssh public key/);
  });
});
