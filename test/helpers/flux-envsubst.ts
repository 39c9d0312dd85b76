/**
 * A model of kustomize-controller's post-build substitution (fluxcd/pkg/envsubst, as kustomize-controller
 * v1.9 runs it) for unit tests, covering what platctl writes and what its docs promise: left to right, `${`
 * opens a variable, `$$` is one literal `$`, any other character is itself. Inside the braces: `name`,
 * `name:=default`, `name=default`, `name:-default`, `name-default` (a plain-text default). Other expression
 * forms throw, so a test never passes by accident. Non-strict, as Flux's default: an unset variable is empty.
 * Objects with `kustomize.toolkit.fluxcd.io/substitute: disabled` are left as they are, as Flux does.
 */
import { parseAllDocuments } from 'yaml';

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** Substitutes one text as envsubst does. */
export function envsubst(text: string, vars: Record<string, string>, opts: { strict?: boolean } = {}): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i);
      if (end < 0) throw new Error(`missing closing brace at ${i}`);
      out += expand(text.slice(i + 2, end), vars, Boolean(opts.strict));
      i = end + 1;
    } else if (text.startsWith('$$', i)) {
      out += '$';
      i += 2;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

function expand(expr: string, vars: Record<string, string>, strict: boolean): string {
  const m = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:=|=|:-|-)(.*))?$/s.exec(expr);
  if (!m?.[1]) throw new Error(`expression \${${expr}} is outside this model`);
  const [, name, op, fallback = ''] = m;
  const set = Object.hasOwn(vars, name);
  const value = vars[name] ?? '';
  if (op === ':=' || op === ':-') return value === '' ? fallback : value;
  if (op === '=' || op === '-') return set ? value : fallback;
  if (!set && strict) throw new Error(`variable not set (strict mode): "${name}"`);
  return value;
}

/**
 * A YAML stream as kustomize-controller applies it with these variables: each document parsed, substituted
 * unless it has substitution disabled, and parsed again. Variable names are checked as Flux checks them.
 */
export function substituteStream(
  stream: string,
  vars: Record<string, string>,
  opts: { strict?: boolean } = {},
): unknown[] {
  for (const k of Object.keys(vars)) if (!NAME.test(k)) throw new Error(`'${k}' var name is invalid`);
  return parseAllDocuments(stream)
    .map((doc) => {
      const obj = doc.toJS() as {
        metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      };
      if (!obj) return undefined;
      const key = 'kustomize.toolkit.fluxcd.io/substitute';
      const off = obj.metadata?.labels?.[key] === 'disabled' || obj.metadata?.annotations?.[key] === 'disabled';
      return off ? obj : parseAllDocuments(envsubst(doc.toString({ lineWidth: 0 }), vars, opts))[0]?.toJS();
    })
    .filter((o) => o !== undefined && o !== null);
}
