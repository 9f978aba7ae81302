// A patched image as nfhot's records give it (the daemon's labels), for the tests that plan an
// include or a preflight without a daemon.
import type { PatchRecord } from '../../src/core/image/record.js';
import type { ImageState } from '../../src/core/image/state.js';

/** A patch of `pkg` from a git branch. */
export const patchOf = (pkg: string, version = '1.0.1'): PatchRecord => ({
  package: pkg,
  version,
  source: 'git+file:///r@fix',
  kind: 'git',
  ref: 'fix',
  commit: 'c'.repeat(40),
  tree: 't',
  noDeps: false,
  python: '/opt/venv/bin/python3',
  at: '2026-12-07T10:00:00.000Z',
});

/** `image` patched (tagged to `derivative`) with `patch`, and pushed to `pushed` when given. */
export const patchedImage = (image: string, derivative: string, patch: PatchRecord, pushed?: string): ImageState => ({
  image,
  state: 'patched',
  mode: 'tag',
  originalId: 'sha256:o',
  currentId: 'sha256:c',
  derivative,
  patches: [patch],
  ...(pushed ? { pushed: [pushed] } : {}),
});
