import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWrapper, rewriteWrapper, shellPath } from '../../../src/core/loop/task.js';
import { nextflowPath, writeTask } from '../../helpers/nextflow-task.js';
import { tempDir } from '../../helpers/repos.js';

const W = '/home/alice/proj/work/3f/9a1c2e7b5d4f60a8b2c1e0d9f8a7b6';

/** The parts of a wrapper nfhot reads, with a launch line as the builders write it. */
function wrapper(launch: string, { header = '', unstage = '' } = {}): string {
  return [
    '#!/bin/bash',
    header,
    '### ---',
    "### name: 'NFCORE_DEMO:DEMO:FASTQC (S1\\'s)'",
    '### ...',
    'set -e',
    'set -u',
    'NXF_ENTRY=${1:-nxf_main}',
    '',
    'on_exit() {',
    '    local exit_status=${nxf_main_ret:=0}',
    `    printf -- $exit_status > ${W}/.exitcode`,
    '    docker rm $NXF_BOXID &>/dev/null || true',
    '}',
    '',
    'nxf_launch() {',
    `    ${launch}`,
    '}',
    '',
    'nxf_unstage_outputs() {',
    '    true',
    unstage,
    '}',
    '',
    'nxf_main() {',
    `    touch ${W}/.command.begin`,
    '}',
    '',
    '$NXF_ENTRY',
  ].join('\n');
}

const TRACE = `docker run -i --cpu-shares 2048 --memory 6144m -e "NXF_TASK_WORKDIR" -e "NXF_DEBUG=\${NXF_DEBUG:=0}" -v /data/fastq:/data/fastq -v /home/alice/proj:/home/alice/proj -w "$NXF_TASK_WORKDIR" -u $(id -u):$(id -g) --name $NXF_BOXID quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0 /bin/bash -c "eval $(nxf_container_env); bash -C -e -u -o pipefail ${W}/.command.run nxf_trace"`;

describe('readWrapper', () => {
  it('reads the task directory, the engine, the image and the task name from the shapes the builders write', () => {
    expect(readWrapper(wrapper(TRACE), 'x')).toMatchObject({
      workDir: W,
      engine: 'docker',
      image: 'quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0',
      name: "NFCORE_DEMO:DEMO:FASTQC (S1's)",
    });
    // Podman puts cpu and memory after the run options; sudo and engine options go before `run`.
    const podman = `podman run -i -e "NXF_TASK_WORKDIR" -v /scratch/work:/scratch/work -v "$NXF_TASK_WORKDIR":"$NXF_TASK_WORKDIR" -w "$NXF_TASK_WORKDIR" --cpu-shares 4096 --memory 8192m --name $NXF_BOXID quay.io/biocontainers/samtools:1.21--h50ea8bc_0 /bin/bash -ue ${W}/.command.sh`;
    expect(readWrapper(wrapper(podman), 'x')).toMatchObject({
      engine: 'podman',
      image: 'quay.io/biocontainers/samtools:1.21--h50ea8bc_0',
    });
    const sudo = `sudo docker --tlsverify run -i -e "NXF_TASK_WORKDIR" -v /work/dir:/work/dir -w "$NXF_TASK_WORKDIR" --entrypoint /bin/bash --name $NXF_BOXID busybox -c "/bin/bash -ue ${W}/.command.sh"`;
    expect(readWrapper(wrapper(sudo), 'x')).toMatchObject({ engine: 'docker', image: 'busybox' });
  });

  it("tells whether the tee pipeline swaps the task's stdout and stderr (up to 26.07) or swaps them back (later)", () => {
    const main = (extra: string) =>
      wrapper(TRACE).replace(
        'nxf_main() {',
        `nxf_main() {\n    (set -o pipefail; (nxf_launch | tee .command.out) 3>&1 1>&2 2>&3 | tee .command.err)${extra} &`,
      );
    expect(readWrapper(main(''), 'x').swapsOutput).toBe(true);
    expect(readWrapper(main(' 3>&1 1>&2 2>&3'), 'x').swapsOutput).toBe(false);
  });

  it('takes the directory from the launch line when no .exitcode line names it (and unescapes it)', () => {
    const dir = '/w/my work/ab/cd';
    const text = wrapper(
      `docker run -i -v /w:/w -w "$NXF_TASK_WORKDIR" --name $NXF_BOXID img /bin/bash -ue ${shellPath(dir)}/.command.sh`,
    ).replace(/^ {4}printf.*$/m, '');
    expect(readWrapper(text, 'x').workDir).toBe(dir);
  });

  it('says what it is when it is not a wrapper, ran without a container, or under another runner', () => {
    expect(() => readWrapper('#!/bin/bash\necho hi\n', 'd')).toThrow('d is not a Nextflow task wrapper');
    expect(() => readWrapper(wrapper(`/bin/bash -ue ${W}/.command.sh`), 'd')).toThrow(
      'the task in d did not run in a container',
    );
    expect(() =>
      readWrapper(
        wrapper(
          `set +u; env - PATH="$PATH" singularity exec --no-home --pid -B /w /sif/x.img /bin/bash -c "cd $NXF_TASK_WORKDIR; /bin/bash -ue ${W}/.command.sh"`,
        ),
        'd',
      ),
    ).toThrow('ran under Singularity/Apptainer');
    const k8s = wrapper(`/bin/bash -ue ${W}/.command.sh`).replace(
      '### ...',
      "### container: 'quay.io/org/tool:dev'\n### ...",
    );
    expect(() => readWrapper(k8s, 'd')).toThrow('the task in d ran in quay.io/org/tool:dev, started by its executor');
    expect(() => readWrapper(wrapper(`apptainer exec -B /w /sif/x.img /bin/bash -ue ${W}/.command.sh`), 'd')).toThrow(
      'ran under Singularity/Apptainer',
    );
  });
});

describe('rewriteWrapper', () => {
  it('gives the launch line the new image and every mention of the directory the copy, mounted beside the others', () => {
    const unstage = `    nxf_fs_copy "$name" ${W}\n    cp .command.out ${W}/.command.out || true`;
    const text = wrapper(TRACE, { header: `#SBATCH -o ${W}/.command.log\nNXF_CHDIR=${W}`, unstage });
    const out = rewriteWrapper(
      readWrapper(text, 'x'),
      'nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-abc',
      '/tmp/re run',
    );
    expect(out).not.toContain(W);
    expect(out).toContain('NXF_CHDIR=/tmp/re\\ run\n');
    expect(out).toContain('nxf_fs_copy "$name" /tmp/re\\ run\n');
    expect(out).toContain('printf -- $exit_status > /tmp/re\\ run/.exitcode');
    expect(out).toContain(
      `-u $(id -u):$(id -g) -v /tmp/re\\ run:/tmp/re\\ run --name $NXF_BOXID nfhot.local/quay.io/biocontainers/fastqc:0.12.1--hdfd78af_0-abc /bin/bash -c "eval $(nxf_container_env); bash -C -e -u -o pipefail /tmp/re\\ run/.command.run nxf_trace"`,
    );
    // Only the directory itself: a sibling whose name starts the same is another task's.
    const sibling = rewriteWrapper(
      readWrapper(text.replace('/data/fastq:/data/fastq', `${W}0/x:${W}0/x`), 'x'),
      'i',
      '/c',
    );
    expect(sibling).toContain(`-v ${W}0/x:${W}0/x`);
  });

  it('finds the directory however Nextflow escaped it (only some characters), and never writes to it from the copy', () => {
    const dir = '/data/run#2/jürgen [x]/a:b/ab/cd';
    const w = nextflowPath(dir);
    const text = wrapper(
      `docker run -i -v /data:/data -w "$NXF_TASK_WORKDIR" --name $NXF_BOXID img /bin/bash -ue ${w}/.command.sh`,
    ).replaceAll(W, w);
    const parsed = readWrapper(text, 'x');
    expect(parsed.workDir).toBe(dir);
    const out = rewriteWrapper(parsed, 'i', '/c');
    expect(out).not.toContain(w);
    expect(out).toContain('printf -- $exit_status > /c/.exitcode');
    expect(out).toContain('touch /c/.command.begin');
  });

  it('does not mount the copy twice when Nextflow mounted the task directory itself', () => {
    for (const own of [`-v ${W}:${W}:ro`, '-v "$NXF_TASK_WORKDIR":"$NXF_TASK_WORKDIR"']) {
      const line = `docker run -i -e "NXF_TASK_WORKDIR" -v /data:/data ${own} -w "$NXF_TASK_WORKDIR" --name $NXF_BOXID img /bin/bash -ue ${W}/.command.sh`;
      const out = rewriteWrapper(readWrapper(wrapper(line), 'x'), 'i', '/c');
      expect(out.match(/-v \/c:/g)?.length ?? 0).toBe(own.startsWith('-v "') ? 0 : 1);
      expect(out).not.toContain(W);
    }
  });

  it('keeps an SELinux relabel flag of the other mounts; in place, only the image changes', () => {
    const line = `docker run -i -e "NXF_TASK_WORKDIR" -v /home/db:/home/db:ro,Z -v /home/alice/proj/work:/home/alice/proj/work:Z -w "$NXF_TASK_WORKDIR" --name $NXF_BOXID ubuntu:22.04 /bin/bash -ue ${W}/.command.sh`;
    const w = readWrapper(wrapper(line), 'x');
    expect(rewriteWrapper(w, 'i', '/c')).toContain('-v /c:/c:Z --name $NXF_BOXID i /bin/bash -ue /c/.command.sh');
    const inPlace = rewriteWrapper(w, 'other:1', W);
    expect(inPlace).toBe(w.text.replace('--name $NXF_BOXID ubuntu:22.04 ', '--name $NXF_BOXID other:1 '));
  });

  it('reads and rewrites the wrappers of the test helper, as the docker tests run them', () => {
    const task = writeTask({
      work: join(tempDir(), 'a b'),
      image: 'org/tool:dev',
      engine: 'podman',
      script: 'true',
      trace: true,
      env: { A: '1' },
      runOptions: '-u 1:1',
    });
    const w = readWrapper(readFileSync(join(task.dir, '.command.run'), 'utf8'), 'x');
    expect(w).toMatchObject({ workDir: task.dir, engine: 'podman', image: 'org/tool:dev' });
    expect(rewriteWrapper(w, 'new:1', '/copy')).not.toContain(shellPath(task.dir));
  });
});
