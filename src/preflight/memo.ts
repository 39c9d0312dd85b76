/**
 * Preflight's memo: what an earlier preflight proved about a tool binary or a PGP key file, kept while its
 * evidence is unchanged, so that a finished cluster's re-run neither spawns every tool for its version nor loads
 * OpenPGP to re-read the same keys. The evidence is exact:
 * - a tool: the binary that PATH resolves to (real path, size, mtime, inode), memoised only when it is a native
 *   executable named like the tool. Version-manager shims (asdf, tfenv: scripts; mise: one binary behind every
 *   name) choose the version at run time, so they are probed every run;
 * - a key: the SHA-256 of the file's bytes (revocations and subkeys live in those bytes), and the time window
 *   in which the validation holds (from when it was checked until the key or its encryption subkey expires).
 * Only passing results are kept, and a different platctl version ignores the file. The memo is an optimisation,
 * never a source of truth: an unreadable or unwritable file means "probe again", not an error.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import { VERSION } from '../version.js';

interface MemoFile {
  version: string;
  tools: Record<string, { identity: string; detail: string }>;
  keys: Record<string, { fingerprint: string; checkedAt: number; validUntil?: number }>;
}

/** Remembered preflight results, looked up by their evidence. */
export interface PreflightMemo {
  /** The passing probe's detail ("tofu v1.10.10") when the tool's binary is the one probed before. */
  tool(name: string, identity: string): string | undefined;
  rememberTool(name: string, identity: string, detail: string): void;
  /** The key's fingerprint when these bytes passed validation and `now` lies in the window it holds for. */
  key(sha256: string, now: Date): string | undefined;
  rememberKey(sha256: string, fingerprint: string, checkedAt: Date, validUntil?: Date): void;
  /** Writes what was learnt (nothing when nothing changed; a failed write is ignored). */
  save(): Promise<void>;
}

const empty = (): MemoFile => ({ version: VERSION, tools: {}, keys: {} });

function readMemo(file: string): MemoFile {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<MemoFile>;
    if (m.version !== VERSION || typeof m.tools !== 'object' || typeof m.keys !== 'object') return empty();
    return { version: VERSION, tools: m.tools ?? {}, keys: m.keys ?? {} };
  } catch {
    return empty();
  }
}

/** The memo kept in `file` (`<platctl home>/preflight-memo.json`), or in memory only when `file` is undefined. */
export function preflightMemo(file?: string): PreflightMemo {
  const m = file ? readMemo(file) : empty();
  let dirty = false;
  return {
    tool: (name, identity) => (m.tools[name]?.identity === identity ? m.tools[name].detail : undefined),
    rememberTool(name, identity, detail) {
      m.tools[name] = { identity, detail };
      dirty = true;
    },
    key(sha256, now) {
      const k = m.keys[sha256];
      const t = now.getTime();
      return k && k.checkedAt <= t && (k.validUntil === undefined || t < k.validUntil) ? k.fingerprint : undefined;
    },
    rememberKey(sha256, fingerprint, checkedAt, validUntil) {
      m.keys[sha256] = { fingerprint, checkedAt: checkedAt.getTime(), validUntil: validUntil?.getTime() };
      dirty = true;
    },
    async save() {
      if (!file || !dirty) return;
      try {
        await writeFileAtomic(file, `${JSON.stringify(m)}\n`, 0o600);
        dirty = false;
      } catch {
        // an optimisation only: the next run probes again
      }
    },
  };
}

/** SHA-256 (hex) of a file's bytes. */
export function fileDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const NATIVE_MAGIC = [
  [0x7f, 0x45, 0x4c, 0x46], // ELF
  [0xcf, 0xfa, 0xed, 0xfe], // Mach-O 64-bit
  [0xce, 0xfa, 0xed, 0xfe], // Mach-O 32-bit
  [0xca, 0xfe, 0xba, 0xbe], // Mach-O universal
];

function isNative(file: string): boolean {
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    readSync(fd, head, 0, 4, 0);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return NATIVE_MAGIC.some((m) => m.every((b, i) => head[i] === b));
}

/**
 * The binary PATH runs for the first of `candidates` found there, as an identity string, or undefined when none
 * is found or the one found cannot be memoised (not a native executable named like the tool: a shim).
 */
export function toolIdentity(candidates: readonly string[], pathEnv = process.env.PATH ?? ''): string | undefined {
  if (process.platform === 'win32') return undefined;
  for (const name of candidates) {
    for (const dir of pathEnv.split(path.delimiter)) {
      if (!dir) continue;
      const file = path.join(dir, name);
      let real: string;
      try {
        real = realpathSync(file);
        const st = statSync(real);
        if (!st.isFile() || (st.mode & 0o111) === 0) continue;
        if (path.basename(real) !== name || !isNative(real)) return undefined;
        return [real, st.size, st.mtimeMs, st.ino, st.dev].join('|');
      } catch {}
    }
  }
  return undefined;
}
