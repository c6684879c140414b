// Wire shape and route of Secret key rotation (issue 13, item 8): the server makes a new key,
// seals every stored Secret with it (objects and watch history), and drops the old keys.
//
//   POST /api/v1/secret-key/rotate  (admin)
import Type, { type Static } from 'typebox';
import type { RouteSpec } from './routes.js';

export const SecretKeyRotationSchema = Type.Object({
  message: Type.String(),
  /** The id of the key that seals from now on. */
  keyId: Type.String(),
  /** Secret rows sealed again: current objects, and entries of the watch history. */
  objects: Type.Integer({ minimum: 0 }),
  history: Type.Integer({ minimum: 0 }),
  /** Ids of the keys removed from the keyring. */
  dropped: Type.Array(Type.String()),
  /**
   * SQLite: whether the state file was rebuilt (VACUUM, WAL emptied into it), so no byte sealed
   * with a dropped key stays in it; false says why in the message. Absent for etcd.
   */
  rebuilt: Type.Optional(Type.Boolean()),
});
export type SecretKeyRotation = Static<typeof SecretKeyRotationSchema>;

export const SECRET_KEY_ROUTES = {
  secretKeyRotate: {
    id: 'secretKey.rotate',
    method: 'POST',
    path: '/api/v1/secret-key/rotate',
    summary: 'make a new Secret encryption key, seal every stored Secret with it and drop the old keys',
    access: { allow: ['admin'], forbidden: 'only a cluster administrator may rotate the Secret encryption key' },
    body: Type.Object({}),
    response: SecretKeyRotationSchema,
  },
} as const satisfies Record<string, RouteSpec>;
