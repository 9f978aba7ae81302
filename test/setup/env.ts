import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Each test file gets its own nfhot cache and state (the includes nfhot keeps), as a fresh home
// directory would; the nfhot processes the tests start inherit them.
process.env.NFHOT_CACHE = mkdtempSync(join(tmpdir(), 'nfhot-test-cache-'));
process.env.NFHOT_STATE = mkdtempSync(join(tmpdir(), 'nfhot-test-state-'));

afterAll(() => {
  rmSync(process.env.NFHOT_CACHE!, { recursive: true, force: true });
  rmSync(process.env.NFHOT_STATE!, { recursive: true, force: true });
});
