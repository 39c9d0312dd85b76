/**
 * A tiny Vault HTTP client: exactly the five calls `vault init` / `vault unseal` need, over node:http(s), each
 * traced with {@link traceRequest}. Bodies are never logged; errors carry Vault's own `errors` text only.
 * TLS honours the Vault CLI's own variables: VAULT_CACERT (a CA bundle) and VAULT_TLS_SERVER_NAME.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { PlatctlError } from '../errors.js';
import { traceRequest } from '../trace.js';

/** `GET /v1/sys/seal-status`. */
export interface SealStatus {
  /** "shamir", or the auto-unseal type ("awskms", "transit", …). */
  type: string;
  initialized: boolean;
  sealed: boolean;
  /** Threshold and number of shares. */
  t: number;
  n: number;
  /** Shares given so far in the current unseal attempt. */
  progress: number;
  /** Identifies the current unseal attempt; empty when none is running. */
  nonce: string;
  version?: string;
}

/** The body of `PUT /v1/sys/init`, as Vault names the fields. */
export interface InitRequest {
  secret_shares?: number;
  secret_threshold?: number;
  pgp_keys?: string[];
  recovery_shares?: number;
  recovery_threshold?: number;
  recovery_pgp_keys?: string[];
  root_token_pgp_key: string;
}

/** The answer of `PUT /v1/sys/init`: with PGP keys every value is ciphertext (base64/hex of a PGP message). */
export interface InitResponse {
  keys?: string[];
  keys_base64?: string[];
  recovery_keys?: string[];
  recovery_keys_base64?: string[];
  root_token: string;
}

/** One Raft peer from `sys/storage/raft/configuration`. */
export interface RaftPeer {
  node_id: string;
  address: string;
  leader: boolean;
  voter: boolean;
}

/** The Vault API platctl uses. Tests swap it for a fake. */
export interface VaultApi {
  readonly addr: string;
  initStatus(): Promise<{ initialized: boolean }>;
  sealStatus(): Promise<SealStatus>;
  init(body: InitRequest): Promise<InitResponse>;
  /** Gives one share; `reset` discards the attempt in progress instead. */
  unseal(body: { key: string } | { reset: true }): Promise<SealStatus>;
  raftPeers(token: string): Promise<RaftPeer[]>;
}

/** Options for {@link vaultApi}. */
export interface VaultApiOptions {
  timeoutMs?: number;
  /** PEM CA bundle for https (default: the file named by VAULT_CACERT). */
  ca?: string;
  /** TLS server name (default: VAULT_TLS_SERVER_NAME). */
  servername?: string;
  /** How messages (and `addr`) name this Vault, e.g. `vault/vault-0 (port-forward)` for a forward's local port. */
  label?: string;
}

function vaultErrors(body: string): string {
  try {
    const errors = (JSON.parse(body) as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) return errors.map(String).join('; ');
  } catch {
    // not JSON
  }
  return body.slice(0, 200).trim() || '(empty body)';
}

/** Creates a client for the Vault at `addr` (http://… or https://…). */
export function vaultApi(addr: string, opts: VaultApiOptions = {}): VaultApi {
  const base = new URL(addr);
  const tls = base.protocol === 'https:';
  const caFile = process.env.VAULT_CACERT;
  const ca = opts.ca ?? (tls && caFile ? readFileSync(caFile, 'utf8') : undefined);
  const servername = opts.servername ?? process.env.VAULT_TLS_SERVER_NAME;
  const timeout = opts.timeoutMs ?? 30_000;
  const where = opts.label ?? addr.replace(/\/$/, '');

  function request<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    traceRequest('vault', method, path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (payload)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    if (token) headers['x-vault-token'] = token;
    const options: https.RequestOptions = {
      method,
      hostname: base.hostname,
      port: base.port || (tls ? 443 : 80),
      path: (base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '')) + path,
      headers,
      timeout,
      ...(tls ? { ca, servername } : {}),
    };
    return new Promise<T>((resolve, reject) => {
      const req = (tls ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(
              new PlatctlError(
                'VAULT_API',
                `Vault ${method} ${path} at ${where}: HTTP ${status}: ${vaultErrors(text)}`,
              ),
            );
            return;
          }
          try {
            resolve((text ? JSON.parse(text) : {}) as T);
          } catch {
            reject(new PlatctlError('VAULT_API', `Vault ${method} ${path} at ${where}: answer is not JSON`));
          }
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          new PlatctlError('VAULT_UNREACHABLE', `cannot reach Vault at ${where} (${err.code ?? err.message})`, {
            cause: err,
            hint: 'check --vault-addr / VAULT_ADDR, or that the vault-0 pod runs (platctl port-forwards to it)',
          }),
        ),
      );
      if (payload) req.write(payload);
      req.end();
    });
  }

  return {
    addr: where,
    initStatus: () => request('GET', '/v1/sys/init'),
    sealStatus: () => request('GET', '/v1/sys/seal-status'),
    init: (body) => request('PUT', '/v1/sys/init', body),
    unseal: (body) => request('PUT', '/v1/sys/unseal', body),
    async raftPeers(token) {
      const r = await request<{ data?: { config?: { servers?: RaftPeer[] } } }>(
        'GET',
        '/v1/sys/storage/raft/configuration',
        undefined,
        token,
      );
      return r.data?.config?.servers ?? [];
    },
  };
}
