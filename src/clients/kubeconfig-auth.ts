/**
 * Reads a kubeconfig the way kubectl does (KUBECONFIG with several files, --kubeconfig, --context) and turns
 * the chosen context into TLS options and an Authorization header. Done here rather than with client-node's
 * KubeConfig because importing client-node costs ~0.5 s, which alone would break the 1 s no-op re-run
 * target. Exec plugins (`aws eks get-token`, …) are run and their token cached until it expires; platctl's own
 * `platctl eks token` is made in-process (own-exec.ts). The deprecated auth-provider stanza is left to
 * client-node (see kube-transport.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { PlatctlError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import type { KubeTarget } from './kube-target.js';
import { ownEksToken, ownEksTokenArgs } from './own-exec.js';

interface Named<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}
interface ClusterEntry {
  server: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
}
interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
}
/** The user stanza of a kubeconfig (the parts platctl understands). */
export interface UserEntry {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  exec?: ExecConfig;
  'auth-provider'?: unknown;
}

/** What a transport needs to reach and authenticate to one API server. */
export interface ResolvedKubeconfig {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure: boolean;
  user: UserEntry;
  /** Folder of the file that defined the user, for relative paths. */
  userDir: string;
}

const b64 = (s: string) => Buffer.from(s, 'base64');

function files(target: KubeTarget): string[] {
  if (target.kubeconfig) return [target.kubeconfig];
  const env = process.env.KUBECONFIG;
  if (env) return env.split(path.delimiter).filter(Boolean);
  return [path.join(os.homedir(), '.kube', 'config')];
}

/** Loads and merges the kubeconfig files; the first file to set a name wins, as in kubectl. */
export function resolveKubeconfig(target: KubeTarget): ResolvedKubeconfig {
  const clusters = new Map<string, { c: ClusterEntry; dir: string }>();
  const users = new Map<string, { u: UserEntry; dir: string }>();
  const contexts = new Map<string, { cluster: string; user: string }>();
  let current: string | undefined;
  const list = files(target);
  let loaded = 0;
  for (const file of list) {
    let doc: Record<string, unknown>;
    try {
      doc = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !target.kubeconfig && list.length > 1) continue;
      throw new PlatctlError('KUBE_UNREACHABLE', `cannot load kubeconfig ${file}: ${(err as Error).message}`, {
        cause: err,
        hint: 'pass --kubeconfig <file> or set KUBECONFIG',
      });
    }
    loaded++;
    const dir = path.dirname(path.resolve(file));
    for (const e of (doc.clusters ?? []) as Named<never>[]) {
      if (!clusters.has(e.name)) clusters.set(e.name, { c: e.cluster as ClusterEntry, dir });
    }
    for (const e of (doc.users ?? []) as Named<never>[])
      if (!users.has(e.name)) users.set(e.name, { u: (e.user ?? {}) as UserEntry, dir });
    for (const e of (doc.contexts ?? []) as Named<never>[]) {
      if (!contexts.has(e.name)) contexts.set(e.name, e.context as { cluster: string; user: string });
    }
    current ??= (doc['current-context'] as string | undefined) || undefined;
  }
  if (loaded === 0) throw new PlatctlError('KUBE_UNREACHABLE', `no kubeconfig found (${list.join(', ')})`);
  const name = target.context ?? current;
  const ctx = name ? contexts.get(name) : undefined;
  if (!ctx) {
    throw new PlatctlError(
      'KUBE_UNREACHABLE',
      name ? `kubeconfig has no context "${name}"` : 'kubeconfig has no current context',
      {
        hint: 'pass --context <name> (kubectl config get-contexts lists them)',
      },
    );
  }
  const cluster = clusters.get(ctx.cluster);
  if (!cluster?.c?.server)
    throw new PlatctlError('KUBE_UNREACHABLE', `kubeconfig context "${name}" names no usable cluster`);
  const user = users.get(ctx.user) ?? { u: {}, dir: cluster.dir };
  const read = (p: string, dir: string) => readFileSync(path.resolve(dir, p));
  const c = cluster.c;
  const u = user.u;
  return {
    server: c.server.replace(/\/$/, ''),
    ca: c['certificate-authority-data']
      ? b64(c['certificate-authority-data'])
      : c['certificate-authority']
        ? read(c['certificate-authority'], cluster.dir)
        : undefined,
    cert: u['client-certificate-data']
      ? b64(u['client-certificate-data'])
      : u['client-certificate']
        ? read(u['client-certificate'], user.dir)
        : undefined,
    key: u['client-key-data']
      ? b64(u['client-key-data'])
      : u['client-key']
        ? read(u['client-key'], user.dir)
        : undefined,
    insecure: Boolean(c['insecure-skip-tls-verify']),
    user: u,
    userDir: user.dir,
  };
}

/** Returns a function giving the current Authorization header (or none), running exec plugins as needed. */
export function bearerSource(cfg: ResolvedKubeconfig): () => Promise<string | undefined> {
  const u = cfg.user;
  if (u.token) {
    registerSecret(u.token);
    return async () => `Bearer ${u.token}`;
  }
  if (u.tokenFile) {
    // Re-read each time: projected service-account tokens rotate on disk.
    return async () => `Bearer ${readFileSync(path.resolve(cfg.userDir, u.tokenFile as string), 'utf8').trim()}`;
  }
  if (!u.exec) return async () => undefined;
  const exec = u.exec;
  const own = ownEksTokenArgs(exec);
  const fetch = own ? () => ownEksToken(own) : () => runExecPlugin(exec);
  // One fetch shared by the requests that start together (a run's first checks go out in parallel).
  let current: { token: Promise<{ token: string; expires: number }>; expires: number } | undefined;
  return async () => {
    if (!current || current.expires - Date.now() <= 30_000) {
      const entry = { token: fetch(), expires: Number.POSITIVE_INFINITY };
      current = entry;
      entry.token.then(
        (t) => {
          entry.expires = t.expires;
        },
        () => {
          if (current === entry) current = undefined;
        },
      );
    }
    return `Bearer ${(await current.token).token}`;
  };
}

/** Runs a kubeconfig exec plugin and reads the token (and its expiry) from the ExecCredential it prints. */
async function runExecPlugin(exec: ExecConfig): Promise<{ token: string; expires: number }> {
  const env = { ...process.env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])) };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(exec.command, exec.args ?? [], { env, timeout: 60_000 }, (err, out, errOut) => {
      if (err) {
        reject(
          new PlatctlError(
            'KUBE_UNREACHABLE',
            `kubeconfig exec plugin "${exec.command}" failed: ${String(errOut).trim().split('\n').pop() || err.message}`,
            {
              cause: err,
            },
          ),
        );
      } else resolve(out);
    });
  });
  const status = (JSON.parse(stdout) as { status?: { token?: string; expirationTimestamp?: string } }).status ?? {};
  if (!status.token)
    throw new PlatctlError('KUBE_UNREACHABLE', `kubeconfig exec plugin "${exec.command}" returned no token`);
  registerSecret(status.token);
  return {
    token: status.token,
    // No timestamp, or one that does not parse: good for a minute (never "forever").
    expires: Date.parse(status.expirationTimestamp ?? '') || Date.now() + 60_000,
  };
}
