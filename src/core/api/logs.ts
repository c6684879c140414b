// The log route's query: `GET .../instances/NAME/log?container=C&follow=1&tail=N` answers text/plain.
import Type from 'typebox';

export const LogQuerySchema = Type.Object({
  container: Type.Optional(Type.String({ description: 'a container or init container name; default the first container' })),
  follow: Type.Optional(Type.String({ description: '1: keep streaming new lines' })),
  tail: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'only the last N lines' })),
});
