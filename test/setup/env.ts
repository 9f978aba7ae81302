import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Each test file gets its own nfhot cache, as a fresh home directory would.
process.env.NFHOT_CACHE = mkdtempSync(join(tmpdir(), 'nfhot-test-cache-'));

afterAll(() => rmSync(process.env.NFHOT_CACHE!, { recursive: true, force: true }));
