// The user a container runs as, for every driver: securityContext.runAsUser (auto: the instance's
// own uid, picked by the scheduler) with runAsGroup (auto without a group: the same number).
import { InvalidError } from '../core/index.js';
import type { ContainerLaunch } from './driver.js';

/** `uid` or `uid:gid` as Docker's User takes it; undefined when the spec sets no user. */
export function launchUser(launch: ContainerLaunch): string | undefined {
  const sc = launch.spec.securityContext;
  if (sc?.runAsUser === undefined) return undefined;
  let uid: number;
  if (sc.runAsUser === 'auto') {
    if (launch.autoUid === undefined) {
      throw new InvalidError(`container "${launch.spec.name}" of instance ${launch.instance.namespace}/${launch.instance.name} has runAsUser auto but the instance has no uid yet`, [
        { path: `spec.containers[${launch.index}].securityContext.runAsUser`, message: 'auto needs the uid the scheduler picks when it binds the instance (spec.autoUid)' },
      ]);
    }
    uid = launch.autoUid;
  } else {
    uid = sc.runAsUser;
  }
  // auto without a group: the same number as group, so what the container writes is its own.
  const gid = sc.runAsGroup ?? (sc.runAsUser === 'auto' ? uid : undefined);
  return gid !== undefined ? `${uid}:${gid}` : String(uid);
}
