import { existsSync } from 'node:fs';
import fg from 'fast-glob';
import semver from 'semver';
import { UserError } from '../base/errors.js';
import type { Programs } from '../ports/programs.js';

/** The directory of the host Python's ensurepip, whose `_bundled` holds pip's wheel (python.org, pyenv, Homebrew, conda builds). */
const ENSUREPIP_DIR = 'import ensurepip, os; print(os.path.dirname(ensurepip.__file__))';

let found: Promise<string | undefined> | undefined;

/**
 * A pip wheel on this machine, brought into an image whose environment has no pip (and no
 * wheel of its own) to run as its pip: $NFHOT_PIP_WHEEL, else the newest of Debian's and
 * Ubuntu's /usr/share/python-wheels (package python3-pip-whl) and the host Python's ensurepip.
 * None: a UserError that starts with `missing` (what has no pip) and says what to install.
 */
export async function hostPipWheel(programs: Programs, missing: string): Promise<string> {
  const wheel = await findWheel(programs);
  if (wheel) return wheel;
  const given = process.env.NFHOT_PIP_WHEEL;
  throw new UserError(
    `${missing}, and nfhot found no pip wheel to run as its pip`,
    given
      ? `NFHOT_PIP_WHEEL names ${given}, which does not exist`
      : "install Debian's or Ubuntu's python3-pip-whl, or point NFHOT_PIP_WHEEL at a pip wheel (pip-*-py3-none-any.whl); or add pip to the image",
  );
}

function findWheel(programs: Programs): Promise<string | undefined> {
  return (found ??= (async () => {
    const given = process.env.NFHOT_PIP_WHEEL;
    if (given) return existsSync(given) ? given : undefined;
    const dirs = ['/usr/share/python-wheels'];
    for (const python of ['python3', 'python']) {
      const result = await programs.run(python, ['-c', ENSUREPIP_DIR]);
      if (result.exitCode === 0 && result.stdout.trim()) {
        dirs.push(`${result.stdout.trim()}/_bundled`);
        break;
      }
    }
    const wheels = await fg(dirs.map((d) => `${fg.escapePath(d)}/pip-*-py3-none-any.whl`));
    const version = (w: string) => semver.coerce(/pip-([^-]+)-/.exec(w)?.[1] ?? '') ?? new semver.SemVer('0.0.0');
    return wheels.sort((a, b) => semver.compare(version(b), version(a)))[0];
  })());
}
