/** `platctl completion <bash|zsh|fish>`: a completion script generated from the command tree itself. */
import type { Command } from 'commander';
import { PlatctlError } from '../errors.js';

function commandWords(root: Command): { subs: string[]; flags: Map<string, string[]> } {
  const subs: string[] = [];
  const flags = new Map<string, string[]>();
  const globals = root.options.map((o) => o.long).filter((l): l is string => Boolean(l));
  for (const c of root.commands) {
    subs.push(c.name());
    flags.set(c.name(), [...globals, ...c.options.map((o) => o.long).filter((l): l is string => Boolean(l))]);
    for (const sub of c.commands)
      flags.set(
        `${c.name()} ${sub.name()}`,
        sub.options.map((o) => o.long ?? ''),
      );
  }
  return { subs, flags };
}

/** Prints the script for the shell and returns 0. */
export default async function completion(shell: string, _opts: unknown, cmd: Command) {
  const root = cmd.parent as Command;
  const { subs, flags } = commandWords(root);
  const cases = [...flags.entries()].filter(([k]) => !k.includes(' '));
  let script: string;
  if (shell === 'bash') {
    script = `_platctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=( $(compgen -W "${subs.join(' ')}" -- "$cur") ); return; fi
  case "$cmd" in
${cases.map(([k, v]) => `    ${k}) COMPREPLY=( $(compgen -W "${v.join(' ')}" -- "$cur") ) ;;`).join('\n')}
  esac
}
complete -F _platctl platctl`;
  } else if (shell === 'zsh') {
    script = `#compdef platctl
_platctl() {
  if (( CURRENT == 2 )); then compadd ${subs.join(' ')}; return; fi
  case $words[2] in
${cases.map(([k, v]) => `    ${k}) compadd -- ${v.join(' ')} ;;`).join('\n')}
  esac
}
compdef _platctl platctl`;
  } else if (shell === 'fish') {
    script = [
      `complete -c platctl -f -n '__fish_use_subcommand' -a '${subs.join(' ')}'`,
      ...cases.flatMap(([k, v]) =>
        v.map((f) => `complete -c platctl -f -n '__fish_seen_subcommand_from ${k}' -l ${f.replace(/^--/, '')}`),
      ),
    ].join('\n');
  } else {
    throw new PlatctlError('USAGE', `unknown shell "${shell}"`, { hint: 'use bash, zsh or fish' });
  }
  process.stdout.write(`${script}\n`);
  return 0;
}
