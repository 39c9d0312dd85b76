/**
 * Loopback only: the lab's components may send traffic to 127.0.0.0/8 (or ::1) and nowhere else. This scans the
 * lab's service logs for the traces an off-machine attempt leaves: an admission webhook call (its Service
 * ClusterIP is a private-range address), a dial to a non-loopback address, a DNS lookup (a name that is not
 * `localhost` would go to the system resolver), or a Go HTTP error naming a non-loopback URL.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\./.test(h);
}

/** Each pattern captures the host the line tried to reach (or matches outright: a webhook call). */
const PATTERNS: { re: RegExp; host?: number }[] = [
  { re: /failed calling webhook|calling (?:mutating|validating) webhook/i },
  // Go: `dial tcp 10.96.0.12:443: …`, `dial tcp [fd00::1]:443`
  { re: /dial (?:tcp|udp)[46]? (\[[0-9a-f:.]+\]|[0-9.]+):\d+/i, host: 1 },
  // Go: `dial tcp: lookup istiod.istio-system.svc on 10.0.0.2:53: …` (a resolver query leaves the machine)
  { re: /dial (?:tcp|udp)[46]?: lookup ([^\s:]+)/i, host: 1 },
  { re: /lookup [^\s:]+ on (\[[^\]]+\]|[0-9.]+):53\b/i, host: 1 },
  // Go's net/http errors: `Post "https://istiod-1-30-3.istio-system.svc:443/validate": …`, also inside a JSON log
  // line (the Flux controllers log JSON: `Get \"https://…\"`).
  { re: /(?:Get|Post|Put|Patch|Delete|Head) \\?"https?:\/\/(\[[^\]]+\]|[^/:"\\]+)/, host: 1 },
  // ssh and git (go-git, the git CLI): `ssh: connect to host github.com port 22`, `Could not resolve hostname x`.
  { re: /connect to host (\S+) port \d+/i, host: 1 },
  { re: /Could not resolve hostname (\S+?):?\s/i, host: 1 },
];

/** The offending part of one log line, or undefined when the line stays on loopback. */
export function offLoopback(line: string): string | undefined {
  for (const { re, host } of PATTERNS) {
    const m = re.exec(line);
    if (!m) continue;
    if (host === undefined || !isLoopbackHost(m[host] ?? '')) return m[0];
  }
  return undefined;
}

/** One line of a lab log that shows traffic off loopback. */
export interface OffLoopbackHit {
  log: string;
  line: string;
  /** What matched: the webhook call, the dial, the lookup or the URL. */
  match: string;
}

/** Every off-loopback line in the service logs of a lab (`<logs>/*.log`, build logs excluded). */
export function scanLabLogs(logsDir: string): OffLoopbackHit[] {
  if (!existsSync(logsDir)) return [];
  const hits: OffLoopbackHit[] = [];
  for (const f of readdirSync(logsDir)) {
    // Builds download from the package registries on purpose; only running components must stay local.
    if (!f.endsWith('.log') || f.endsWith('-build.log')) continue;
    for (const line of readFileSync(join(logsDir, f), 'utf8').split('\n')) {
      const match = offLoopback(line);
      if (match) hits.push({ log: f, line: line.slice(0, 300), match });
    }
  }
  return hits;
}
