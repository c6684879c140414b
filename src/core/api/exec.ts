// Wire shapes of exec sessions (docs/operate.md): the authenticated POST that asks for a session
// and answers a signed single-use ticket, and the WebSocket upgrade that redeems it. The frames on
// the WebSocket are core/exec-frames.ts.
import Type, { type Static } from 'typebox';

/** A command word: any text but NUL (Docker passes argv as is; nothing reaches a shell unless asked). */
const Word = Type.String({ maxLength: 4096, pattern: '^[^\\u0000]*$', errorMessage: 'must be text without NUL, at most 4096 characters' });

export const ExecRequestSchema = Type.Object(
  {
    command: Type.Array(Word, { minItems: 1, maxItems: 256, errorMessage: 'must be a list of 1 to 256 words, e.g. ["sh"] or ["ls", "-l"]' }),
    container: Type.Optional(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', errorMessage: 'must be a container name of the instance' })),
    tty: Type.Optional(Type.Boolean({ errorMessage: 'must be true or false' })),
    stdin: Type.Optional(Type.Boolean({ errorMessage: 'must be true or false' })),
  },
  { additionalProperties: false },
);
export type ExecRequest = Static<typeof ExecRequestSchema>;

export const ExecTicketSchema = Type.Object({
  ticket: Type.String(),
  expiresAt: Type.String(),
  /** The WebSocket path to open with the ticket (`?ticket=` added). */
  path: Type.String(),
});
export type ExecTicketAnswer = Static<typeof ExecTicketSchema>;

export const ExecSessionQuerySchema = Type.Object({
  ticket: Type.String({ minLength: 1, maxLength: 8192 }),
  cols: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  rows: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
});
