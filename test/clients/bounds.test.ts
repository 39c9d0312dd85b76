/**
 * Every call to the outside is bounded, against a loopback server that accepts connections and never answers
 * (a stalled proxy, a black-holed endpoint, a git host under load): the AWS SDK, git over ssh, any tool, and
 * HTTP APIs. Each gives progress while it waits and a TIMEOUT (or ssh's own timeout) naming the endpoint.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '../../src/clients/aws.js';
import { createExec } from '../../src/clients/exec.js';
import { boundedFetch } from '../../src/clients/http.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../../src/clients/timeouts.js';
import { setNoticeInterval, setWaitReporter } from '../../src/clients/waiting.js';
import { isPlatctlError } from '../../src/errors.js';
import { platctlFailure } from '../helpers/platctl-error.js';
import { type SilentServer, startSilentServer } from '../helpers/silent-server.js';

let silent: SilentServer;
let port: number;
/** The first line of every request the silent server was sent. */
let requests: string[] = [];
const lines: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  silent = await startSilentServer();
  ({ port, requests } = silent);
  setWaitReporter((m) => lines.push(m));
  setNoticeInterval(100);
});
afterEach(() => {
  lines.length = 0;
  process.env = { ...saved };
});
afterAll(async () => {
  await silent.close();
  setWaitReporter(undefined);
  setNoticeInterval(10_000);
});

const quick: Timeouts = {
  ...DEFAULT_TIMEOUTS,
  awsConnectMs: 300,
  awsRequestMs: 300,
  awsAttempts: 2,
  sshConnectMs: 1000,
};

describe('AWS SDK calls', () => {
  it('time out per attempt, retry, then fail with TIMEOUT naming the endpoint, with progress meanwhile', async () => {
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    const aws = createAwsClients({ region: 'us-east-1', timeouts: { ...quick, awsRequestMs: 250 } });
    const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const started = Date.now();
    const err = await platctlFailure((await aws.sts()).send(new GetCallerIdentityCommand({})));
    const took = Date.now() - started;
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(
      new RegExp(
        `^sts:GetCallerIdentity \\(2 attempts\\): no answer from sts\\.us-east-1 \\(http://127\\.0\\.0\\.1:${port}\\)`,
      ),
    );
    expect(err.hint).toContain(`http://127.0.0.1:${port} (AWS_ENDPOINT_URL)`);
    expect(lines.some((l) => l.startsWith(`waiting for sts.us-east-1 (http://127.0.0.1:${port})…`))).toBe(true);
    // Two attempts of 250 ms plus backoff: bounded well below the overall backstop.
    expect(took).toBeLessThan(10_000);
  });

  it('name the real endpoint and what to check without an override', async () => {
    const { endpointLabel } = await import('../../src/clients/aws-bounds.js');
    expect(endpointLabel('eks', 'eu-west-1', undefined)).toBe('eks.eu-west-1');
  });
});

describe('external tools', () => {
  it('git over ssh gives up at ssh ConnectTimeout on a host that never speaks SSH, naming it', async () => {
    delete process.env.GIT_SSH_COMMAND;
    const exec = createExec({ timeouts: quick });
    const started = Date.now();
    const err = await platctlFailure(
      exec.run('git', ['ls-remote', `ssh://git@127.0.0.1:${port}/fleet.git`], {
        env: { GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=no' },
      }),
    );
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toBe(`git ls-remote: no answer from ssh://git@127.0.0.1:${port}/fleet.git within 1 s`);
    expect(err.hint).toMatch(/check that the git host answers ssh/);
  });

  it('any tool past its overall limit is stopped with TIMEOUT naming what it talks to', async () => {
    const exec = createExec({ timeouts: quick });
    const err = await platctlFailure(
      exec.run('git', ['ls-remote', `ssh://git@127.0.0.1:${port}/fleet.git`], {
        timeoutMs: 400,
        env: { GIT_SSH_COMMAND: 'sleep 30 #' },
      }),
    );
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toBe(`git ls-remote: no answer from ssh://git@127.0.0.1:${port}/fleet.git within 400 ms`);
  });
});

describe('boundedFetch', () => {
  it('fails a stalled API with TIMEOUT naming the host, after retrying a GET, with progress', async () => {
    const err = await platctlFailure(
      boundedFetch(
        `http://127.0.0.1:${port}/api/v1/repos/ops/fleet`,
        {},
        // Long enough for each attempt to connect and send on a starved 2-core machine (250 ms was not).
        { timeoutMs: 800, what: 'Gitea: read repo ops/fleet' },
      ),
    );
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toBe(`Gitea: read repo ops/fleet: no answer from 127.0.0.1:${port} within 800 ms`);
    expect(lines.some((l) => l.startsWith(`waiting for 127.0.0.1:${port}…`))).toBe(true);
    // The client gave up on its own timer; its bytes may reach the server an event-loop turn later.
    await vi.waitFor(() => expect(requests.filter((r) => r.startsWith('GET /api/v1/repos/ops/fleet')).length).toBe(2), {
      timeout: 2_000,
    });
  });

  it('returns the status and body of an answering server', async () => {
    const { createServer: http } = await import('node:http');
    const server = http((_, res) => res.end('{"ok":true}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const p = (server.address() as { port: number }).port;
    try {
      const r = await boundedFetch(`http://127.0.0.1:${p}/`, {}, { timeoutMs: 2_000 });
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ ok: true });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('does not retry a POST by itself', async () => {
    const posts = () => requests.filter((r) => r.startsWith('POST /x')).length;
    const err = await boundedFetch(
      `http://127.0.0.1:${port}/x`,
      { method: 'POST', body: '{}' },
      { timeoutMs: 200 },
    ).catch((e: unknown) => e);
    expect(isPlatctlError(err) && err.code).toBe('TIMEOUT');
    await vi.waitFor(() => expect(posts()).toBe(1), { timeout: 2_000 });
  });
});
