/**
 * The lab's ports: picked below the kernel's ephemeral range (where outgoing connections and binds to port 0 take
 * theirs), never one another lab of the test run holds, even while nothing listens on it yet, and remembered.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveEnv } from '../helpers/saved-env.js';
import { freePort, PORT_NAMES, readPorts, resolvePorts } from './ports.js';

const restore = saveEnv('PLATCTL_LAB_DIR');
afterAll(restore);
const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);

describe('lab ports', () => {
  it('are free, below the ephemeral range, and never one already taken', async () => {
    const taken = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const p = await freePort(taken);
      expect(p).toBeGreaterThanOrEqual(20000);
      expect(p).toBeLessThan(ephemeral);
      expect(taken.has(p)).toBe(false);
      taken.add(p);
    }
  });

  it('stay clear of another lab’s ports, and are remembered for the next up', async () => {
    process.env.PLATCTL_LAB_DIR = mkdtempSync(path.join(os.tmpdir(), 'platctl-ports-'));
    const other = await resolvePorts(() => false);
    // The other lab listens on none of them yet (its Flux controllers start later): still never picked.
    const mine = await resolvePorts(() => false, Object.values(other));
    expect(Object.keys(mine).sort()).toEqual([...PORT_NAMES].sort());
    const overlap = Object.values(mine).filter((p) => Object.values(other).includes(p));
    expect(overlap).toEqual([]);
    expect(new Set(Object.values(mine)).size).toBe(PORT_NAMES.length);
    expect(readPorts()).toEqual(mine);
  });
});
