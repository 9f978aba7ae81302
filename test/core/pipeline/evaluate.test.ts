import { describe, expect, it } from 'vitest';
import { evaluate, Unknown, type Facts } from '../../../src/core/pipeline/evaluate.js';
import { parseScript } from '../../../src/core/pipeline/nf.js';

const params: Record<string, string | boolean | null> = { platform: 'illumina', skip: false };
const facts: Facts = {
  engine: 'docker',
  profile: 'docker,gpu',
  param: (n) => (n in params ? params[n]! : new Unknown([`params.${n}`])),
  ext: (n) => (n === 'use_gpu' ? true : null),
};

describe('evaluate', () => {
  it.each([
    [`workflow.containerEngine == 'singularity' && !params.singularity_pull ? 'a' : 'b'`, 'b'], // false && unknown is false
    [`params.missing || workflow.profile.contains('gpu')`, true], // unknown || true is true
    [`params.missing ? 'x' : 'x'`, 'x'], // both branches agree
    [`{ workflow.profile.tokenize(',').contains('docker') }`, true],
    [`{ -> task.ext.use_gpu ? 'gpu' : 'cpu' }`, 'gpu'],
    [`"\${ task.ext?.other ?: 'fallback' }:1"`, 'fallback:1'],
    [`"$params.platform-\${params['skip']}"`, 'illumina-false'],
    [`workflow.containerEngine in ['docker', 'podman']`, true],
    [`params.platform =~ /^ill/`, true],
    [`!(params.platform == 'nanopore')`, true],
  ])('%s is %j', (text, value) => {
    expect(evaluate(text, facts)).toEqual(value);
  });

  it.each([
    [`params.missing && true`, ['params.missing']],
    [`task.cpus > 4 ? 'big' : 'small'`, ['task.cpus']],
    [`file(params.platform).text`, ['file()']],
    [`{ def x = 1; x }`, ['an expression nfhot does not evaluate']],
  ])('%s is unknown, depending on %j', (text, on) => {
    const v = evaluate(text, facts);
    expect(v).toBeInstanceOf(Unknown);
    expect((v as Unknown).on).toEqual(on);
  });
});

describe('parseScript', () => {
  it('turns an if/else container into a choice, keeps includes and declarations inside top-level ifs, and conditions on calls', () => {
    const decls = parseScript(`
if (params.a) {
    include { X } from './x'
}
process P {
    if (workflow.containerEngine == 'singularity') {
        container 'https://s'
    }
    else if (params.b) { container 'b:1' }
    else {
        container 'c:1'
    }
    script:
    "if (x) { container 'no' }"
}
workflow W {
    if (params.a) { X() } else { P() }
    P()
}`);
    expect(decls.includes).toEqual([{ name: 'X', alias: 'X', from: './x' }]);
    expect(decls.processes[0]!.container!.text).toBe(
      `(workflow.containerEngine == 'singularity') ? ('https://s') : (params.b) ? ('b:1') : ('c:1')`,
    );
    expect(decls.workflows[0]!.calls.filter((c) => c.name === 'X' || c.name === 'P')).toEqual([
      { name: 'X', when: ['params.a'] },
      { name: 'P', when: ['!(params.a)'] },
      { name: 'P', when: [] },
    ]);
  });
});
