// The scratch volume of an instance with init containers: one named volume per instance, mounted
// at the same path in every container of it (init and main), so what an init container writes
// there (a database's data directory, a rendered config) the main containers read. Labelled with
// the instance (drivers' ensureVolume) and removed with it.

/** Where every container of such an instance sees the shared volume. */
export const SCRATCH_PATH = '/gantry/scratch';

export function scratchVolumeName(instanceUid: string): string {
  return `gantry-scratch-${instanceUid}`;
}
