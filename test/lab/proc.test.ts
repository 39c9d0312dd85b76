/**
 * What a lab test file left running (test/lab/proc.ts `sessionDescendants`, used by file-guard.ts): its own
 * children and theirs, not the detached lab services it may have started.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { sessionDescendants } from './proc.js';

describe('sessionDescendants', () => {
  it('finds a child and its child in this session, not a detached one', async () => {
    // sh stays as the parent of its sleep (two commands), so the grandchild is found through it.
    const child = spawn('sh', ['-c', 'sleep 31; true'], { stdio: 'ignore' });
    const detached = spawn('sleep', ['32'], { detached: true, stdio: 'ignore' });
    try {
      await sleep(200);
      const found = sessionDescendants();
      const cmds = found.map((p) => p.cmd);
      expect(found.map((p) => p.pid)).toContain(child.pid);
      expect(cmds).toContain('sleep 31');
      expect(cmds).not.toContain('sleep 32');
      expect(found.map((p) => p.pid)).not.toContain(detached.pid);
    } finally {
      child.kill('SIGKILL');
      for (const p of sessionDescendants()) if (p.cmd === 'sleep 31') process.kill(p.pid, 'SIGKILL');
      detached.kill('SIGKILL');
    }
    await sleep(100);
    expect(sessionDescendants().map((p) => p.cmd)).not.toContain('sleep 31');
  });
});
