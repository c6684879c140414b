// The log route's query: `GET .../instances/NAME/log?container=C&follow=1&tail=N` answers text/plain.
import Type from 'typebox';

export const LogQuerySchema = Type.Object({
  container: Type.Optional(Type.String({ description: 'a container or init container name; default the first container' })),
  follow: Type.Optional(Type.String({ description: '1: keep streaming new lines' })),
  tail: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'only the last N lines' })),
  timestamps: Type.Optional(Type.String({ description: "1: each line starts with the runtime's RFC 3339 time it was written" })),
  previous: Type.Optional(Type.String({ description: "1: the container's run before its last restart (404 when it has not restarted)" })),
});
