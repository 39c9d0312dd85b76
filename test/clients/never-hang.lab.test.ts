/**
 * Never hang, against the lab's real components: a process stopped with SIGSTOP still accepts connections (the
 * kernel completes the handshake) but never answers, as a stalled proxy, a black-holed VPC endpoint or a git
 * host under load. Each test stops one component for the length of one call, then SIGCONTs it (always, also
 * when an assertion fails), and shows the call: bounded, saying what it waits for, failing with an error that
 * names the endpoint, and leaving state so that the next run resumes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createExec } from '../../src/clients/exec.js';
import { DEFAULT_TIMEOUTS } from '../../src/clients/timeouts.js';
import { platctl, sandbox } from '../helpers/platctl.js';
import { platctlFailure } from '../helpers/platctl-error.js';
import { labAws } from '../helpers/teardown-context.js';
import { lab } from '../lab/env.js';
import { readPidRecord } from '../lab/proc.js';

type Journal = { steps: Record<string, { status: string; error?: string } | undefined> };
const readJournal = (home: string, cluster: string): Journal =>
  JSON.parse(readFileSync(path.join(home, cluster, 'state.json'), 'utf8')) as Journal;

/** Deletes the aliases and schedules the deletion of the keys the kms step made for `cluster` in moto. */
async function dropKeys(cluster: string): Promise<void> {
  const sdk = await import('@aws-sdk/client-kms');
  const kms = await labAws(lab()).kms();
  for (const purpose of ['vault', 'ebs']) {
    const AliasName = `alias/platctl/${cluster}/${purpose}`;
    const key = await kms.send(new sdk.DescribeKeyCommand({ KeyId: AliasName })).catch(() => undefined);
    await kms.send(new sdk.DeleteAliasCommand({ AliasName })).catch(() => undefined);
    if (key?.KeyMetadata?.KeyId)
      await kms.send(new sdk.ScheduleKeyDeletionCommand({ KeyId: key.KeyMetadata.KeyId, PendingWindowInDays: 7 }));
  }
}

/** Processes this file stopped and has not continued yet. */
const stopped = new Set<number>();

function stop(service: 'moto' | 'sshd'): number {
  const rec = readPidRecord(service);
  if (!rec) throw new Error(`lab: no pid record for ${service}`);
  process.kill(rec.pid, 'SIGSTOP');
  stopped.add(rec.pid);
  return rec.pid;
}
function resume(pid: number): void {
  if (!stopped.delete(pid)) return;
  process.kill(pid, 'SIGCONT');
}
afterEach(() => {
  for (const pid of [...stopped]) resume(pid);
});

/** Short bounds, so that a test waits seconds, not the minutes a real account's defaults allow. */
const quick = { awsConnect: '2s', awsRequest: '2s', awsAttempts: 2, sshConnect: '2s', notice: '1s' };

describe('AWS stalled (moto stopped)', () => {
  it('doctor says what it waits for, then names the endpoint; once it answers, doctor passes', async () => {
    const sb = sandbox(lab(), 'hang', { timeouts: quick });
    const pid = stop('moto');
    const started = Date.now();
    let r: Awaited<ReturnType<typeof platctl>>;
    try {
      r = await platctl(['doctor', '--config', sb.config], sb.env);
    } finally {
      resume(pid);
    }
    const took = Date.now() - started;
    expect(r.exitCode, r.all).toBe(1);
    const endpoint = `sts.us-east-1 (${lab().awsEndpoint})`;
    expect(r.stderr).toContain(`◎ waiting for ${endpoint}… 1 s`);
    expect(r.stdout).toMatch(
      new RegExp(
        `✗ aws credentials\\s+sts:GetCallerIdentity \\(2 attempts\\): no answer from ${escapeRegExp(endpoint)}`,
      ),
    );
    // Two attempts of 2 s + 2 s and the SDK's backoff, far below the minutes it used to sit silent.
    expect(took).toBeLessThan(30_000);
    const again = await platctl(['doctor', '--config', sb.config], sb.env);
    expect(again.exitCode, again.all).toBe(0);
  });

  it('a step whose call stalls fails naming the endpoint, is recorded failed, and the next run resumes it', async () => {
    const name = `hang-${Date.now().toString(36)}`;
    const sb = sandbox(lab(), name, { timeouts: quick });
    const release = path.join(sb.dir, 'release');
    // Held after preflight (which asks STS) and the lock, before the kms step's check: moto stops there.
    const run = platctl(['bootstrap', name, '--config', sb.config, '--only', 'kms', '--yes'], {
      ...sb.env,
      PLATCTL_TEST_PAUSE: `kms:check=${release}`,
    });
    let held = '';
    run.stderr?.on('data', (chunk: Buffer) => {
      held += chunk.toString();
    });
    let pid: number | undefined;
    try {
      for (let i = 0; i < 600 && !held.includes('holding at kms:check'); i++) await sleep(100);
      expect(held).toContain('holding at kms:check');
      pid = stop('moto');
      writeFileSync(release, '');
      const r = await run;
      expect(r.exitCode, r.all).toBe(1);
      expect(r.stderr).toContain(`waiting for kms.us-east-1 (${lab().awsEndpoint})`);
      expect(r.stderr).toMatch(/kms:\w+ \(2 attempts\): no answer from kms\.us-east-1/);
      expect(r.stderr).toContain('run the command again once it answers');
    } finally {
      if (pid) resume(pid);
    }
    const journal = readJournal(sb.home, name);
    expect(journal.steps.kms?.status).toBe('failed');
    expect(journal.steps.kms?.error).toMatch(/no answer from kms\.us-east-1/);
    const again = await platctl(['bootstrap', name, '--config', sb.config, '--only', 'kms', '--yes'], sb.env);
    expect(again.exitCode, again.all).toBe(0);
    expect(readJournal(sb.home, name).steps.kms?.status).toBe('done');
    await dropKeys(name);
  });
});

describe('git host stalled (sshd stopped)', () => {
  it('git over ssh gives up at ConnectTimeout naming the repository, and works once sshd answers', async () => {
    const env = lab();
    const exec = createExec({ timeouts: { ...DEFAULT_TIMEOUTS, sshConnectMs: 2_000 } });
    const lsRemote = () =>
      exec.run('git', ['ls-remote', env.fleetUrl, 'refs/heads/main'], {
        env: { GIT_SSH_COMMAND: env.gitSshCommand, GIT_TERMINAL_PROMPT: '0' },
      });
    const pid = stop('sshd');
    const started = Date.now();
    try {
      const err = await platctlFailure(lsRemote());
      expect(err.code).toBe('TIMEOUT');
      expect(err.message).toBe(`git ls-remote: no answer from ${env.fleetUrl} within 2 s`);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      resume(pid);
    }
    const ok = await lsRemote();
    expect(ok.stdout).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main/);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
