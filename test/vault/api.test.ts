/**
 * The Vault HTTP client against a local HTTP server standing in for Vault's wire format: methods, paths, JSON
 * bodies, the token header, traced requests (no bodies), and errors that carry Vault's own text. The same calls
 * against the real OpenBao are proved in test/steps/vault-init.lab.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultApi } from '../../src/vault/api.js';

interface Seen {
  method: string;
  url: string;
  token?: string;
  body: string;
}

const seen: Seen[] = [];
let server: http.Server;
let addr: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'platctl-vault-api-'));
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', token: req.headers['x-vault-token'] as string, body });
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.url === '/v1/sys/init' && req.method === 'GET') return send(200, { initialized: false });
      if (req.url === '/v1/sys/init' && req.method === 'PUT')
        return send(400, { errors: ['Vault is already initialized'] });
      if (req.url === '/v1/sys/seal-status')
        return send(200, { type: 'shamir', sealed: true, t: 2, n: 3, progress: 0 });
      if (req.url === '/v1/sys/unseal') return send(200, { type: 'shamir', sealed: false, t: 2, n: 3, progress: 0 });
      if (req.url === '/v1/sys/storage/raft/configuration') {
        if (req.headers['x-vault-token'] !== 'root-token-xyz') return send(403, { errors: ['permission denied'] });
        return send(200, {
          data: { config: { servers: [{ node_id: 'vault-0', address: 'a:8201', leader: true, voter: true }] } },
        });
      }
      res.writeHead(502);
      res.end('<html>bad gateway</html>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
  delete process.env.PLATCTL_TRACE_REQUESTS;
});

describe('vaultApi', () => {
  it('makes each call with the right method, path and JSON body, and traces it without the body', async () => {
    const trace = path.join(dir, 'trace.txt');
    process.env.PLATCTL_TRACE_REQUESTS = trace;
    const api = vaultApi(`${addr}/`);
    expect(api.addr).toBe(addr);
    expect(await api.initStatus()).toEqual({ initialized: false });
    expect((await api.sealStatus()).t).toBe(2);
    expect((await api.unseal({ key: 'share-abcdef' })).sealed).toBe(false);
    expect(await api.raftPeers('root-token-xyz')).toEqual([
      { node_id: 'vault-0', address: 'a:8201', leader: true, voter: true },
    ]);
    delete process.env.PLATCTL_TRACE_REQUESTS;
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v1/sys/init',
      'GET /v1/sys/seal-status',
      'PUT /v1/sys/unseal',
      'GET /v1/sys/storage/raft/configuration',
    ]);
    expect(JSON.parse(seen[2]?.body ?? '')).toEqual({ key: 'share-abcdef' });
    expect(seen[3]?.token).toBe('root-token-xyz');
    expect(seen[0]?.token).toBeUndefined();
    const traced = await readFile(trace, 'utf8');
    expect(traced).toBe(
      [
        'vault GET /v1/sys/init',
        'vault GET /v1/sys/seal-status',
        'vault PUT /v1/sys/unseal',
        'vault GET /v1/sys/storage/raft/configuration',
        '',
      ].join('\n'),
    );
    expect(traced).not.toContain('share-abcdef');
    expect(traced).not.toContain('root-token-xyz');
  });

  it("turns an error answer into a PlatctlError with Vault's own message", async () => {
    const api = vaultApi(addr);
    await expect(api.init({ secret_shares: 1, secret_threshold: 1, root_token_pgp_key: 'x' })).rejects.toMatchObject({
      code: 'VAULT_API',
      message: `Vault PUT /v1/sys/init at ${addr}: HTTP 400: Vault is already initialized`,
    });
    await expect(api.raftPeers('wrong')).rejects.toThrow('HTTP 403: permission denied');
  });

  it('says which address it could not reach', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(vaultApi(`http://127.0.0.1:${port}`).initStatus()).rejects.toMatchObject({
      message: `cannot reach Vault at http://127.0.0.1:${port} (ECONNREFUSED)`,
    });
  });
});
