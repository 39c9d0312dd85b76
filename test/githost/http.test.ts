/**
 * Both git host clients are bounded by the shared boundedFetch with `timeouts.http` from platform.yaml, against
 * a loopback server that accepts connections and never answers: progress while they wait, one retry of a GET
 * and none of a write, then TIMEOUT naming the host (GitHub's too, through octokit's `request.fetch`). A host
 * that refuses the connection is GITHOST_API naming it. Every request is traced, without headers or bodies.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setNoticeInterval, setWaitReporter } from '../../src/clients/waiting.js';
import { validateConfig } from '../../src/config/load.js';
import { createGitHost } from '../../src/githost/provider.js';
import { expectPlatctlError } from '../helpers/platctl-error.js';
import { closedPort as freePort, type SilentServer, startSilentServer } from '../helpers/silent-server.js';

let silent: SilentServer;
let port: number;
let closedPort: number;
let dir: string;
/** The first line of every request the silent server was sent. */
let requests: string[] = [];
const lines: string[] = [];
/**
 * The silent server has read exactly these request lines. The client gives up on its own timer; the request
 * bytes it wrote may reach the server's socket an event-loop turn later on a loaded machine, so wait for them.
 */
const sent = (expected: string[]) => vi.waitFor(() => expect(requests).toEqual(expected), { timeout: 2_000 });

beforeAll(async () => {
  silent = await startSilentServer();
  ({ port, requests } = silent);
  closedPort = await freePort();
  dir = await mkdtemp(path.join(tmpdir(), 'platctl-githost-http-'));
  setWaitReporter((m) => lines.push(m));
  setNoticeInterval(100);
});
afterEach(() => {
  lines.length = 0;
  requests.length = 0;
  delete process.env.PLATCTL_TRACE_REQUESTS;
});
afterAll(async () => {
  await silent.close();
  await rm(dir, { recursive: true, force: true });
  setWaitReporter(undefined);
  setNoticeInterval(10_000);
});

/**
 * A cluster on the given provider and API, with `timeouts.http` from platform.yaml. The bounds are short but not
 * tiny: at 250–300 ms a retry on a starved 2-core machine sometimes timed out before it had sent its request.
 */
const hostFor = async (provider: 'gitea' | 'github', apiUrl: string, http = '800ms') => {
  const cluster = validateConfig(
    {
      clusters: [
        {
          name: 'demo',
          aws: { accountId: '123456789012', region: 'us-east-1' },
          kubernetes: { version: '1.34' },
          fleet: { url: 'ssh://git@127.0.0.1:2222/acme/fleet.git', provider, apiUrl },
          timeouts: { http },
        },
      ],
    },
    'p.yaml',
  ).clusters[0];
  if (!cluster) throw new Error('no cluster');
  const host = await createGitHost(cluster, { GITEA_TOKEN: 'tok-gitea-1', GITHUB_TOKEN: 'tok-github-1' });
  if (!host) throw new Error('no host');
  return host;
};
const repo = { owner: 'acme', name: 'fleet' };

describe('git host requests are bounded by timeouts.http', () => {
  it('Gitea: a stalled API times out after the configured bound, a GET retried once, with progress', async () => {
    const gitea = await hostFor('gitea', `http://127.0.0.1:${port}`);
    const started = Date.now();
    const err = await expectPlatctlError(gitea.getRepo(repo), 'TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.message).toBe(`Gitea: read acme/fleet: no answer from 127.0.0.1:${port} within 800 ms`);
    expect(err.hint).toMatch(/^check fleet\.apiUrl/);
    await sent(['GET /api/v1/repos/acme/fleet HTTP/1.1', 'GET /api/v1/repos/acme/fleet HTTP/1.1']);
    expect(lines.some((l) => l.startsWith(`waiting for 127.0.0.1:${port}…`))).toBe(true);
  });

  it('Gitea: a write is not retried', async () => {
    const gitea = await hostFor('gitea', `http://127.0.0.1:${port}`);
    const key = { title: 't', key: 'ssh-ed25519 AAAA', readOnly: true };
    await expectPlatctlError(gitea.addDeployKey(repo, key), 'TIMEOUT');
    await sent(['POST /api/v1/repos/acme/fleet/keys HTTP/1.1']);
  });

  it('GitHub: octokit’s fetch is the same bound; its TIMEOUT is not turned into an API error', async () => {
    const github = await hostFor('github', `http://127.0.0.1:${port}/api/v3`, '700ms');
    const err = await expectPlatctlError(github.currentUser(), 'TIMEOUT');
    expect(err.message).toBe(
      `GET http://127.0.0.1:${port}/api/v3/user: no answer from 127.0.0.1:${port} within 700 ms`,
    );
    await sent(['GET /api/v3/user HTTP/1.1', 'GET /api/v3/user HTTP/1.1']);
    const hook = { url: 'https://h/hook/x', secret: 's3cr3t-hook', contentType: 'json' as const, events: ['push'] };
    requests.length = 0;
    await expectPlatctlError(github.createHook(repo, hook), 'TIMEOUT');
    await sent(['POST /api/v3/repos/acme/fleet/hooks HTTP/1.1']);
  });

  it('a host that refuses the connection is GITHOST_API naming it, for both clients', async () => {
    const gitea = await hostFor('gitea', `http://127.0.0.1:${closedPort}`);
    const e1 = await expectPlatctlError(gitea.currentUser(), 'GITHOST_API');
    expect(e1.message).toBe(`cannot reach the git host at http://127.0.0.1:${closedPort}: ECONNREFUSED`);
    const github = await hostFor('github', `http://127.0.0.1:${closedPort}`);
    const e2 = await expectPlatctlError(github.getRepo(repo), 'GITHOST_API');
    expect(e2.message).toBe(`cannot reach the git host at http://127.0.0.1:${closedPort}: ECONNREFUSED`);
  });

  it('traces each request as method and path, never the token', async () => {
    const trace = path.join(dir, 'trace');
    process.env.PLATCTL_TRACE_REQUESTS = trace;
    const gitea = await hostFor('gitea', `http://127.0.0.1:${closedPort}`);
    await expectPlatctlError(gitea.listDeployKeys(repo), 'GITHOST_API');
    const github = await hostFor('github', `http://127.0.0.1:${closedPort}`);
    await expectPlatctlError(github.deleteHook(repo, 7), 'GITHOST_API');
    const text = await readFile(trace, 'utf8');
    expect(text).toBe('githost GET /api/v1/repos/acme/fleet/keys\ngithost DELETE /repos/acme/fleet/hooks/7\n');
    expect(text).not.toContain('tok-');
  });
});
