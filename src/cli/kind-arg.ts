// Turns what a user typed for KIND (`svc`, `services`, `Service`) into a kind, or fails with the
// list of kinds the CLI knows.
import { AppError, KINDS, resolveKind, type KindInfo } from '../core/index.js';

export function kindList(): string {
  return KINDS.map((k) => `${k.plural} (${k.aliases.filter((a) => a !== k.plural && a !== k.kind.toLowerCase()).join(', ')})`).join(', ');
}

export function resolveKindArg(word: string): KindInfo {
  const info = resolveKind(word);
  if (!info) throw new AppError('MALFORMED', `unknown kind "${word}": use one of ${kindList()}`);
  return info;
}

/** `service/web`: how objects are named in CLI output. */
export function objectRef(kind: string, name: string): string {
  return `${kind.toLowerCase()}/${name}`;
}
