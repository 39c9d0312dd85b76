/**
 * known_hosts for the fleet repo's ssh server: from config `fleet.knownHosts` (the lines themselves, or a
 * file holding them), or scanned with ssh-keyscan at the URL's host and port. Flux checks the server's host
 * key against these lines, so a port other than 22 must appear as `[host]:port`.
 */
import { readFile } from 'node:fs/promises';
import type { Exec } from '../clients/exec.js';
import { PlatctlError } from '../errors.js';
import { knownHostsPattern, parseSshUrl } from '../git/git.js';

const keyLine = /^(\S+)\s+((?:ssh-|ecdsa-|sk-)\S+)\s+(\S+)/;

/** Keeps the key lines of ssh-keyscan output (drops comments), with the host written as ssh looks it up. */
export function normaliseKnownHosts(text: string, pattern: string): string {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = keyLine.exec(line);
    if (!m) continue;
    const entry = `${pattern} ${m[2]} ${m[3]}`;
    if (!lines.includes(entry)) lines.push(entry);
  }
  return lines.length > 0 ? `${lines.sort().join('\n')}\n` : '';
}

/** Scans the host keys of the fleet repo's server (timeout in seconds per host, ssh-keyscan's -T). */
export async function scanKnownHosts(exec: Exec, url: string, opts: { timeoutSec?: number } = {}): Promise<string> {
  const u = parseSshUrl(url);
  const timeout = opts.timeoutSec ?? 10;
  const r = await exec.run('ssh-keyscan', ['-T', String(timeout), '-p', String(u.port), u.host], {
    timeoutMs: (timeout + 5) * 1000,
    okExitCodes: [1],
  });
  const text = normaliseKnownHosts(r.stdout, knownHostsPattern(u));
  if (!text) {
    const why = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .slice(-1)[0];
    throw new PlatctlError(
      'TOOL_FAILED',
      `ssh-keyscan found no host keys at ${knownHostsPattern(u)} (${url})${why ? `: ${why}` : ''}`,
      {
        hint: 'check the host and port of fleet.url are reachable, or set fleet.knownHosts in platform.yaml',
      },
    );
  }
  return text;
}

/**
 * The known_hosts Flux will use: config `fleet.knownHosts` when set (its lines, or a file path), else a scan.
 * `source` says where they came from, for the log.
 */
export async function resolveKnownHosts(
  exec: Exec,
  fleet: { url: string; knownHosts?: string },
): Promise<{ knownHosts: string; source: string }> {
  const configured = fleet.knownHosts?.trim();
  if (!configured) return { knownHosts: await scanKnownHosts(exec, fleet.url), source: 'ssh-keyscan' };
  if (/\s(ssh-|ecdsa-|sk-)/.test(configured)) return { knownHosts: `${configured}\n`, source: 'fleet.knownHosts' };
  try {
    const text = (await readFile(configured, 'utf8')).trim();
    if (!/\s(ssh-|ecdsa-|sk-)/.test(text)) throw new Error('no host key lines');
    return { knownHosts: `${text}\n`, source: configured };
  } catch (err) {
    throw new PlatctlError(
      'CONFIG_INVALID',
      `fleet.knownHosts: cannot read known_hosts lines from ${configured}: ${(err as Error).message}`,
      {
        hint: 'set fleet.knownHosts to the known_hosts lines themselves or to a file holding them',
        cause: err,
      },
    );
  }
}
