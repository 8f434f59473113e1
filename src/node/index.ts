// neurite/node: files that must survive, for Node and Deno (node:fs). Not part of the browser
// or Workers entries.
export { writeFileAtomic, writeFileAtomicSync } from './atomic-write';
export { CheckpointStore, withChecksum, verifyChecksum, CHECKSUM_KEY } from './checkpoints';
export type { Checkpoint, CheckpointStoreOptions, Skipped } from './checkpoints';
