/**
 * `openbatch completion bash|zsh`: a shell completion script written from the commands and options
 * this binary has (commander's tree), so it never falls behind them. zsh loads it through
 * bashcompinit.
 */

import type { Command } from 'commander'
import { UsageError } from './errors.js'

/** Words completed after `path` (the subcommands, then the options, of that command). */
function words(cmd: Command): string[] {
  const subcommands = cmd.commands.map((c) => c.name())
  const options = cmd.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter((x): x is string => x != null))
  return [...subcommands, ...options, '--help']
}

/** Every command with its path of names from the root: `[['peer'], ['models', 'add'], …]`. */
function walk(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...path, c.name()], cmd: c }, ...walk(c, [...path, c.name()])])
}

export function completionScript(program: Command, shell: string): string {
  if (shell !== 'bash' && shell !== 'zsh') {
    throw new UsageError(`completion scripts are for bash and zsh; got "${shell}"`)
  }
  // Options every command takes (--version only the root).
  const global = program.options
    .filter((o) => o.long !== '--version')
    .flatMap((o) => [o.long, o.short].filter((x): x is string => x != null))
  const cases = walk(program)
    .map(({ path, cmd }) => `    "${path.join(' ')}") words="${[...words(cmd), ...global].join(' ')}" ;;`)
    .join('\n')
  const lines = [
    '# openbatch completion: source it, e.g. `source <(openbatch completion bash)` in ~/.bashrc',
    ...(shell === 'zsh' ? ['autoload -U +X bashcompinit && bashcompinit'] : []),
    '_openbatch() {',
    `  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w words`,
    `  local known="|${walk(program)
      .map(({ path }) => path.join(' '))
      .join('|')}|"`,
    '  # The command path so far: the words before the cursor that name a command (not options, not their values).',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    `    w="\${COMP_WORDS[i]}"`,
    '    case "$w" in -*) continue ;; esac',
    `    case "$known" in *"|\${path:+$path }$w|"*) path="\${path:+$path }$w" ;; esac`,
    '  done',
    '  case "$path" in',
    `    "") words="${[...program.commands.map((c) => c.name()), ...global, '--version', '--help'].join(' ')}" ;;`,
    cases,
    '  esac',
    '  # Option names and subcommands from the list; anything else (models, inputs, --out) is a file.',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    'complete -o default -F _openbatch openbatch',
    ''
  ]
  return lines.join('\n')
}

/** Adds `openbatch completion <shell>`. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(openbatch completion bash) (or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell))
    })
}
