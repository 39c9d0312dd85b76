/**
 * The bounds on calls to the outside, in milliseconds, from platform.yaml's `timeouts` (defaults when there is
 * no config, as for `platctl doctor` without one). Kubernetes (60 s) and Vault (30 s) have their own.
 */
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';

/** Every bound, in ms (attempts: a count). */
export interface Timeouts {
  awsConnectMs: number;
  awsRequestMs: number;
  awsAttempts: number;
  sshConnectMs: number;
  gitMs: number;
  httpMs: number;
  helmMs: number;
  terraformMs: number;
  noticeMs: number;
}

/** The defaults, as the config schema has them. */
export const DEFAULT_TIMEOUTS: Timeouts = {
  awsConnectMs: 5_000,
  awsRequestMs: 20_000,
  awsAttempts: 5,
  sshConnectMs: 15_000,
  gitMs: 5 * 60_000,
  httpMs: 30_000,
  helmMs: 10 * 60_000,
  terraformMs: 90 * 60_000,
  noticeMs: 10_000,
};

/** "90s", "10m", "1h", "500ms" → ms. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new PlatctlError('CONFIG_INVALID', `"${text}" is not a duration such as 90s, 10m or 1h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** The bounds for a cluster (or the defaults). */
export function timeoutsOf(cluster?: Pick<ClusterConfig, 'timeouts'>): Timeouts {
  const t = cluster?.timeouts;
  if (!t) return { ...DEFAULT_TIMEOUTS };
  return {
    awsConnectMs: durationMs(t.awsConnect),
    awsRequestMs: durationMs(t.awsRequest),
    awsAttempts: t.awsAttempts,
    sshConnectMs: durationMs(t.sshConnect),
    gitMs: durationMs(t.git),
    httpMs: durationMs(t.http),
    helmMs: durationMs(t.helm),
    terraformMs: durationMs(t.terraform),
    noticeMs: durationMs(t.notice),
  };
}

/** "20 s", "2 min" (or "250 ms" below a second) for messages. */
export function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  return s >= 120 && s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}
