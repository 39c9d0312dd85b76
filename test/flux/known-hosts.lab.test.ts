/** known_hosts: scanned from the lab's real sshd (host and port), or taken from config. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../src/clients/exec.js';
import { normaliseKnownHosts, resolveKnownHosts, scanKnownHosts } from '../../src/flux/known-hosts.js';
import { lab } from '../lab/env.js';

const env = lab();
const exec = createExec();
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-kh-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('known_hosts', () => {
  it('scans the fleet host at its port and writes [host]:port lines holding the real host key', async () => {
    const text = await scanKnownHosts(exec, env.fleetUrl);
    const labHostKey = (await readFile(env.knownHosts, 'utf8')).split('\n')[0]?.split(' ').slice(1).join(' ');
    expect(text).toContain(`[127.0.0.1]:${env.sshPort} ${labHostKey}`);
    for (const line of text.trim().split('\n')) expect(line.startsWith(`[127.0.0.1]:${env.sshPort} `)).toBe(true);
  });

  it('fails clearly, naming host and port, when nothing answers', async () => {
    const port = await closedPort();
    await expect(scanKnownHosts(exec, `ssh://git@127.0.0.1:${port}/x.git`, { timeoutSec: 2 })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message: expect.stringContaining(`[127.0.0.1]:${port}`),
    });
  });

  it('normalises scan output: comments dropped, port-22 hosts bare, duplicates merged', () => {
    const out = normaliseKnownHosts(
      '# github.com:22 SSH-2.0\ngithub.com ssh-ed25519 AAAAkey\ngithub.com ssh-ed25519 AAAAkey\n',
      'github.com',
    );
    expect(out).toBe('github.com ssh-ed25519 AAAAkey\n');
  });

  it('takes fleet.knownHosts as lines or as a file, without scanning', async () => {
    const line = 'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    // An unreachable URL proves no scan happens.
    const fleet = { url: 'ssh://git@127.0.0.1:1/x.git' };
    expect(await resolveKnownHosts(exec, { ...fleet, knownHosts: line })).toEqual({
      knownHosts: `${line}\n`,
      source: 'fleet.knownHosts',
    });
    const file = path.join(tmp, 'known_hosts');
    await writeFile(file, `${line}\n`);
    expect((await resolveKnownHosts(exec, { ...fleet, knownHosts: file })).knownHosts).toBe(`${line}\n`);
    await expect(resolveKnownHosts(exec, { ...fleet, knownHosts: path.join(tmp, 'missing') })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
