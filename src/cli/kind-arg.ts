// Turns what a user typed for KIND (`svc`, `services`, `Service`) into a kind, or fails with the
// list of kinds the CLI knows.
import { KINDS, resolveKind, UsageError, type KindInfo } from '../core/index.js';

/** `services (svc), instances (inst), ..., jobs, ...`: every kind, with its short aliases when it has any. */
function kindList(filter: (k: KindInfo) => boolean = () => true): string {
  return KINDS.filter(filter)
    .map((k) => {
      const short = k.aliases.filter((a) => a !== k.plural && a !== k.kind.toLowerCase());
      return short.length > 0 ? `${k.plural} (${short.join(', ')})` : k.plural;
    })
    .join(', ');
}

/** For `--help`: `services|svc, instances|inst, ...` (the kinds `filter` accepts). */
export function kindHelp(filter: (k: KindInfo) => boolean = () => true): string {
  return KINDS.filter(filter)
    .map((k) => [k.plural, ...k.aliases.filter((a) => a !== k.plural && a !== k.kind.toLowerCase())].join('|'))
    .join(', ');
}

export function resolveKindArg(word: string): KindInfo {
  const info = resolveKind(word);
  if (!info) throw new UsageError(`unknown kind "${word}": use one of ${kindList()}`);
  return info;
}

/** `service/web`: how objects are named in CLI output. */
export function objectRef(kind: string, name: string): string {
  return `${kind.toLowerCase()}/${name}`;
}
