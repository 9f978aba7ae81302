// A run's params as Nextflow takes them from its command line: -params-file, then --NAME VALUE.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/base/errors.js';
import { paramsOf, paramsOfCommand, readParamsFile, runParams } from '../../../src/core/pipeline/params.js';
import { tempDir } from '../../helpers/repos.js';

describe('params', () => {
  it('types command-line values as Nextflow does (or keeps strings, as the strict parser does from 25.10), nests dotted names, adds the camelCase of kebab names', () => {
    expect(
      paramsOf(['aligner=hisat2', 'skip_qc=true', 'max=12', 'ratio=0.5', 'off=FALSE', 'title=a=b', 'empty=']),
    ).toEqual({ aligner: 'hisat2', skip_qc: true, max: 12, ratio: 0.5, off: false, title: 'a=b', empty: '' });
    expect(paramsOf(['skip_qc=true', 'max=12'], false)).toEqual({ skip_qc: 'true', max: '12' });
    expect(paramsOf(['a.b=x', 'a.c=y', 'file\\.name=z'])).toEqual({ a: { b: 'x', c: 'y' }, 'file.name': 'z' });
    expect(paramsOf(['skip-trimming=true'])).toEqual({ 'skip-trimming': true, skipTrimming: true });
    expect(() => paramsOf(['aligner'])).toThrow(UsageError);
  });

  it('reads a params file as JSON, or YAML by its name, and the command line goes over it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.yaml'), 'platform: illumina\nskip_qc: true\nreads: 2\n');
    writeFileSync(join(dir, 'p.json'), '{"platform": "nanopore", "genome": null}');
    expect(await readParamsFile(join(dir, 'p.yaml'))).toEqual({ platform: 'illumina', skip_qc: true, reads: 2 });
    expect(await readParamsFile(join(dir, 'p.json'))).toEqual({ platform: 'nanopore', genome: null });
    expect(await runParams({ paramsFile: join(dir, 'p.yaml'), params: ['platform=nanopore'] })).toEqual({
      platform: 'nanopore',
      skip_qc: true,
      reads: 2,
    });
    writeFileSync(join(dir, 'bad.json'), '{platform:');
    await expect(readParamsFile(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
    await expect(readParamsFile(join(dir, 'none.yml'))).rejects.toThrow(/does not exist/);
    writeFileSync(join(dir, 'list.yml'), '- a\n- b\n');
    await expect(readParamsFile(join(dir, 'list.yml'))).rejects.toThrow(/no map of params/);
  });

  it('takes a nextflow run command line apart: its -params-file and its --NAME [VALUE]', () => {
    expect(
      paramsOfCommand([
        'nextflow',
        'run',
        '.',
        '-profile',
        'docker',
        '-resume',
        '--aligner',
        'hisat2',
        '--skip_qc',
        '--title=x y',
        '-params-file',
        'p.yml',
        '--last',
      ]),
    ).toEqual({
      file: 'p.yml',
      pairs: ['aligner=hisat2', 'skip_qc=true', 'title=x y', 'last=true'],
    });
  });
});
