// `gantry completion bash|zsh` prints a shell script; the script asks `gantry __complete WORDS...`
// for the candidates of the next word: commands, kinds, actions, and object names read from the
// server (nothing when it does not answer), so `gantry get svc <TAB>` offers the services there.
import { Command } from '@commander-js/extra-typings';
import { KINDS, resolveKind, UsageError, type Kind } from '../core/index.js';
import type { CliContext } from './context.js';
import { clientFor } from './global-options.js';

const BASH = `# gantry completion for bash: source <(bin/gantry completion bash)   (or put it in ~/.bashrc)
_gantry() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -F _gantry gantry
`;

const ZSH = `#compdef gantry
# gantry completion for zsh: source <(bin/gantry completion zsh)   (after compinit)
_gantry() {
  local -a candidates
  candidates=(\${(f)"$(\${words[1]} __complete \${words[2,CURRENT-1]} 2>/dev/null)"})
  compadd -- $candidates
}
compdef _gantry gantry
`;

/** Kinds and their aliases, as typed. */
const KIND_WORDS = KINDS.flatMap((k) => [k.plural, ...k.aliases.filter((a) => a !== k.plural)]);

/** What follows `gantry CMD` (words before a name): fixed words, or a kind whose names follow. */
const FIXED: Record<string, string[][]> = {
  rollout: [['status', 'history', 'undo', 'pause', 'resume', 'promote'], ['service']],
  scale: [['service']],
  stop: [['instance']],
  node: [['cordon', 'uncordon', 'drain']],
  cronjob: [['trigger', 'suspend', 'resume']],
  completion: [['bash', 'zsh']],
};
const NAMES_OF: Record<string, Kind> = { rollout: 'Service', scale: 'Service', stop: 'Instance', node: 'Node', cronjob: 'CronJob', logs: 'Instance', endpoints: 'Service' };

/** The candidates for the word after `words` (flags and their values are skipped). */
export async function candidates(words: readonly string[], commands: readonly string[], names: (kind: Kind) => Promise<string[]>): Promise<string[]> {
  const args = words.filter((w, i) => !w.startsWith('-') && !(i > 0 && /^-(n|o|c|f)$|^--(namespace|output|server|token|data-dir|filename)$/.test(words[i - 1]!)));
  const [cmd, ...rest] = args;
  if (cmd === undefined) return [...commands];
  if (cmd === 'get' || cmd === 'describe' || cmd === 'delete') {
    if (rest.length === 0) return KIND_WORDS;
    const info = resolveKind(rest[0]!);
    return rest.length === 1 && info ? names(info.kind) : [];
  }
  const fixed = FIXED[cmd] ?? [];
  if (rest.length < fixed.length) return fixed[rest.length]!;
  const kind = NAMES_OF[cmd];
  return kind && rest.length === fixed.length ? names(kind) : [];
}

export function completionCommand(ctx: CliContext) {
  return new Command('completion')
    .description('print a shell completion script: source <(gantry completion bash), or zsh')
    .argument('<shell>', 'bash or zsh')
    .action((shell) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion is for bash or zsh, not "${shell}"`);
      ctx.stdout(shell === 'bash' ? BASH : ZSH);
    });
}

/** The hidden command the scripts call. */
export function completeCommand(ctx: CliContext, commands: () => string[]) {
  return new Command('__complete')
    .description('candidates for the next word (used by the completion scripts)')
    .argument('[words...]')
    .allowUnknownOption()
    .action(async (words, _opts, cmd) => {
      const names = async (kind: Kind): Promise<string[]> => {
        try {
          const client = await clientFor(ctx, cmd);
          return (await client.list(kind)).items.map((o) => o.metadata.name);
        } catch {
          return [];
        }
      };
      const out = await candidates(words, commands(), names);
      if (out.length > 0) ctx.stdout(`${out.join('\n')}\n`);
    });
}
