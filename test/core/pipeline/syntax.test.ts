// The parser a run uses, chosen as Nextflow chooses it (NXF_SYNTAX_PARSER, else its version's
// default), and the version of the nextflow on PATH, asked once per launcher.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execaPrograms } from '../../../src/adapters/programs.js';
import type { Context } from '../../../src/core/base/context.js';
import { UsageError } from '../../../src/core/base/errors.js';
import { describeTarget, nextflowVersion, syntaxFor, syntaxNote } from '../../../src/core/pipeline/syntax.js';
import { tempDir } from '../../helpers/repos.js';

describe('syntaxFor', () => {
  it("is each version's default without NXF_SYNTAX_PARSER: the strict parser from 26.04, edge releases by their number", () => {
    expect(syntaxFor('24.10.6', {}).syntax).toBe('v1');
    expect(syntaxFor('25.04.4', {}).syntax).toBe('v1');
    expect(syntaxFor('25.10.7', {}).syntax).toBe('v1');
    expect(syntaxFor('26.04.0', {}).syntax).toBe('v2');
    expect(syntaxFor('26.08.0-edge', {}).syntax).toBe('v2');
    expect(syntaxFor('26.04.6', {})).toEqual({
      version: '26.04.6',
      syntax: 'v2',
      why: 'the default of Nextflow 26.04.6',
    });
    expect(syntaxFor(undefined, {})).toMatchObject({
      syntax: 'v1',
      why: expect.stringContaining('no nextflow on PATH'),
    });
  });

  it('takes NXF_SYNTAX_PARSER over the version, and --syntax over both; refuses what Nextflow refuses', () => {
    expect(syntaxFor('26.04.0', { NXF_SYNTAX_PARSER: 'v1' })).toMatchObject({
      syntax: 'v1',
      why: 'NXF_SYNTAX_PARSER=v1',
    });
    expect(syntaxFor('25.04.4', { NXF_SYNTAX_PARSER: 'v2' })).toMatchObject({
      syntax: 'v2',
      why: 'NXF_SYNTAX_PARSER=v2',
    });
    expect(syntaxFor('25.04.4', { NXF_SYNTAX_PARSER: 'v1' }, 'v2')).toMatchObject({ syntax: 'v2', why: '--syntax v2' });
    // Nextflow takes exactly v1 or v2: an empty or other value is an error, not its default.
    for (const bad of ['', 'V2', 'strict'])
      expect(() => syntaxFor('26.04.0', { NXF_SYNTAX_PARSER: bad })).toThrow(UsageError);
    expect(() => syntaxFor('26.04.0', {}, 'v3')).toThrow(/--syntax is 'v3'/);
  });

  it('says when the parser asked for is one that Nextflow does not have', () => {
    expect(syntaxNote(syntaxFor('24.10.6', {}, 'v2'))).toMatch(/24\.10\.6 has no strict parser/);
    expect(syntaxNote(syntaxFor('25.04.4', {}, 'v2'))).toBeUndefined();
    expect(describeTarget(syntaxFor('25.04.4', { NXF_SYNTAX_PARSER: 'v2' }))).toBe(
      "Nextflow 25.04.4's strict parser (v2: NXF_SYNTAX_PARSER=v2)",
    );
  });
});

describe('nextflowVersion', () => {
  const ctx = { programs: execaPrograms } as unknown as Context;

  it('is NXF_VER when set (the launcher runs that one), else what the nextflow on PATH says, asked once per launcher file', async () => {
    const bin = tempDir();
    const calls = join(bin, 'calls');
    const launcher = join(bin, 'nextflow');
    writeFileSync(
      launcher,
      `#!/bin/sh\necho x >> ${calls}\necho '      N E X T F L O W'\necho '      version 25.04.4 build 5947'\n`,
    );
    chmodSync(launcher, 0o755);
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    expect(await nextflowVersion(ctx, { ...env, NXF_VER: '26.04.2' })).toBe('26.04.2');
    expect(await nextflowVersion(ctx, env)).toBe('25.04.4');
    expect(await nextflowVersion(ctx, env)).toBe('25.04.4');
    expect((await import('node:fs')).readFileSync(calls, 'utf8')).toBe('x\n');
    // Another launcher at the same path (an upgrade): asked again.
    writeFileSync(launcher, `#!/bin/sh\necho x >> ${calls}\necho 'nextflow version 26.08.0-edge.5990'\n`);
    expect(await nextflowVersion(ctx, env)).toBe('26.08.0-edge.5990');
    expect(await nextflowVersion(ctx, { PATH: tempDir() })).toBeUndefined();
  });
});
