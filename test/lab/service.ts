/**
 * Idempotent start of one detached lab service, and the probes that tell it is ready.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFile } from './config.js';
import {
  isRunning,
  LabError,
  logTail,
  type PidRecord,
  readPidRecord,
  showCommand,
  spawnDetached,
  stopService,
} from './proc.js';

/** How to run one service and how to tell it is ready. */
export interface ServiceSpec {
  name: string;
  version: string;
  /** What the status table shows, e.g. `https://127.0.0.1:6443`. */
  address: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  /** Content the command line does not show (a config file's text): a change restarts the service. */
  fingerprint?: string;
  ready: () => Promise<boolean>;
  timeoutMs?: number;
}

/**
 * Starts the service unless it already runs with the very same command line (then it
 * is reused); one running with other flags (say, a changed dependency port) is restarted.
 */
export async function ensureService(spec: ServiceSpec): Promise<PidRecord> {
  const rec = readPidRecord(spec.name);
  if (isRunning(rec)) {
    const same =
      rec.cmd === spec.cmd &&
      JSON.stringify(rec.args) === JSON.stringify(spec.args) &&
      rec.fingerprint === digest(spec.fingerprint);
    if (same) {
      await waitReady(spec, rec);
      return rec;
    }
    await stopService(spec.name);
  }
  const { name, version, address, cmd, args } = spec;
  const fingerprint = digest(spec.fingerprint);
  const started = await spawnDetached({ name, version, address, cmd, args, fingerprint }, spec.env);
  await waitReady(spec, started);
  return started;
}

function digest(text: string | undefined): string | undefined {
  return text === undefined ? undefined : createHash('sha256').update(text).digest('hex');
}

async function waitReady(spec: ServiceSpec, rec: PidRecord): Promise<void> {
  const deadline = Date.now() + (spec.timeoutMs ?? 60_000);
  const fail = async (why: string) => {
    const log = logFile(spec.name);
    const tail = await logTail(log);
    return new LabError(spec.name, showCommand(spec.cmd, spec.args), log, why, tail);
  };
  for (;;) {
    if (await spec.ready().catch(() => false)) return;
    // Twice, a moment apart: while a process execs (a wrapper script becoming its program) /proc can show
    // nothing for an instant.
    if (!isRunning(rec) && !(await sleep(100).then(() => isRunning(rec))))
      throw await fail('exited before it was ready');
    if (Date.now() > deadline) throw await fail(`not ready after ${(spec.timeoutMs ?? 60_000) / 1000}s`);
    await sleep(200);
  }
}

/** TLS material for {@link httpStatus} against the apiserver. */
export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** For a self-signed serving cert (the controller-manager's). */
  insecure?: boolean;
}

/** HTTP(S) GET; resolves to the status code, or undefined when nothing answers. */
export function httpStatus(url: string, tls: TlsOptions = {}, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((res) => {
    const https = url.startsWith('https:');
    const opts = https ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure } : {};
    const req = (https ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: timeoutMs, ...opts }, (r) => {
      r.resume();
      res(r.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => res(undefined));
    req.end();
  });
}

/** True when a TCP server on the port greets with the given banner prefix (sshd: `SSH-2.0`). */
export function tcpBanner(port: number, prefix: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      sock.destroy();
      res(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('data', (d) => done(d.toString('latin1').startsWith(prefix)));
    sock.once('error', () => done(false));
  });
}
