/**
 * Terraform version constraints (`>= 6.28, < 7.0`, `~> 5.21`, `= 1.2.3`, `!= 1.0.1`) as intervals, so the
 * conformance test can prove that every module of a tree can be satisfied by one provider version. Pre-release
 * versions are out of scope (no module here names one).
 */

/** A version as numbers: 6.28 → [6, 28, 0]. */
export type Version = [number, number, number];

/** A bound: the version and whether it is included. */
interface Bound {
  v: Version;
  inclusive: boolean;
}

/** The versions a set of constraints allows: between the bounds, minus the excluded versions. */
export interface Interval {
  lower?: Bound;
  upper?: Bound;
  excluded: Version[];
}

/** Parses "6.28" / "v1.10.10" into a version; missing parts are 0. */
export function parseVersion(s: string): Version {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`not a version: ${s}`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** Compares two versions (-1, 0, 1). */
export function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0) ? -1 : 1;
  return 0;
}

const tighterLower = (a: Bound | undefined, b: Bound): Bound => {
  if (!a) return b;
  const c = compare(a.v, b.v);
  return c > 0 || (c === 0 && !a.inclusive) ? a : b;
};
const tighterUpper = (a: Bound | undefined, b: Bound): Bound => {
  if (!a) return b;
  const c = compare(a.v, b.v);
  return c < 0 || (c === 0 && !a.inclusive) ? a : b;
};

/** Narrows `into` by one constraint string ("a, b, c"); returns it. */
export function constrain(into: Interval, constraint: string): Interval {
  for (const part of constraint
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(~>|>=|<=|!=|=|>|<)?\s*(v?[\d.]+)$/.exec(part);
    if (!m?.[2]) throw new Error(`not a version constraint: ${part}`);
    const op = m[1] ?? '=';
    const v = parseVersion(m[2]);
    const given = m[2].replace(/^v/, '').split('.').length;
    switch (op) {
      case '=':
        into.lower = tighterLower(into.lower, { v, inclusive: true });
        into.upper = tighterUpper(into.upper, { v, inclusive: true });
        break;
      case '!=':
        into.excluded.push(v);
        break;
      case '>':
      case '>=':
        into.lower = tighterLower(into.lower, { v, inclusive: op === '>=' });
        break;
      case '<':
      case '<=':
        into.upper = tighterUpper(into.upper, { v, inclusive: op === '<=' });
        break;
      case '~>': {
        // Only the rightmost given part may grow: ~> 5.21 → [5.21, 6.0), ~> 1.2.3 → [1.2.3, 1.3.0), ~> 1 → [1, 2).
        const bump = Math.max(0, given - 2);
        const next: Version = [0, 0, 0];
        for (let i = 0; i < bump; i++) next[i] = v[i] ?? 0;
        next[bump] = (v[bump] ?? 0) + 1;
        into.lower = tighterLower(into.lower, { v, inclusive: true });
        into.upper = tighterUpper(into.upper, { v: next, inclusive: false });
        break;
      }
    }
  }
  return into;
}

/** The interval of several constraint strings together. */
export function intersect(constraints: string[]): Interval {
  const i: Interval = { excluded: [] };
  for (const c of constraints) constrain(i, c);
  return i;
}

/** True when `v` satisfies the interval. */
export function allows(i: Interval, v: Version): boolean {
  if (i.lower) {
    const c = compare(v, i.lower.v);
    if (c < 0 || (c === 0 && !i.lower.inclusive)) return false;
  }
  if (i.upper) {
    const c = compare(v, i.upper.v);
    if (c > 0 || (c === 0 && !i.upper.inclusive)) return false;
  }
  return !i.excluded.some((x) => compare(x, v) === 0);
}

/**
 * True when some version satisfies the interval. The lowest candidate is the lower bound itself (or just above
 * it); a few patch steps past it are tried so that `!=` exclusions cannot fool the answer.
 */
export function satisfiable(i: Interval): boolean {
  const start: Version = i.lower ? [...i.lower.v] : [0, 0, 0];
  for (let patch = 0; patch <= i.excluded.length + 1; patch++) {
    const v: Version = [start[0], start[1], start[2] + patch];
    if (allows(i, v)) return true;
  }
  // A bound like > 1.2 with upper < 1.3 still has 1.2.x versions: covered above; otherwise nothing is left.
  return false;
}

/** The interval as text, for failure messages. */
export function describe(i: Interval): string {
  const f = (v: Version) => v.join('.');
  const lo = i.lower ? `${i.lower.inclusive ? '>=' : '>'} ${f(i.lower.v)}` : '';
  const hi = i.upper ? `${i.upper.inclusive ? '<=' : '<'} ${f(i.upper.v)}` : '';
  const ex = i.excluded.map((v) => `!= ${f(v)}`);
  return [lo, hi, ...ex].filter(Boolean).join(', ') || 'any version';
}
