import { UserError } from '../base/errors.js';

/** What build tools print when the compiler (or Rust) they need is not there: the program missing, where the output says. */
const NO_COMPILER: RegExp[] = [
  /error: command '([^']+)' failed: No such file or directory/, // setuptools
  /unable to execute '([^']+)': No such file or directory/, // older distutils
  /ERROR: Unknown compiler\(s\): \[\['([^']+)'/, // meson-python
  /No (CMAKE_C(?:XX)?_COMPILER) could be found/, // scikit-build, CMake
  /error: can't find (Rust) compiler/, // setuptools-rust
  /(Cargo), the Rust package manager, is not installed/, // maturin
];

/**
 * Why the install failed, in one line: the install's own reason (the new code is shadowed), a
 * compiled extension the image has no compiler for (named when setuptools names it), or pip's
 * first error line.
 */
export function pipFailure(
  stderr: string,
  image: string,
  exitCode: number,
  backend?: { requirements: string[]; searched: string },
): UserError {
  const tail = stderr.trim().split('\n').slice(-25).join('\n');
  const unavailable =
    /ERROR: (?:Could not find a version that satisfies the requirement|No matching distribution found for) (\S+)/.exec(
      stderr,
    )?.[1];
  // pip retries an index it cannot reach, then finds no version at all.
  const unreachable =
    /Failed to establish a new connection|NewConnectionError|Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection refused|Max retries exceeded/.test(
      stderr,
    );
  const noIndex = unavailable !== undefined && (unreachable || /from versions: none/.test(stderr));
  const where = unreachable ? 'pip there reached no package index to get it' : 'no package index pip reached has it';
  if (backend && (noIndex || /Installing build dependencies[^\n]*error/.test(stderr))) {
    return new UserError(
      `cannot build in ${image}: the build requirements ${backend.requirements.join(', ')} are in none of ${backend.searched}, and pip could not fetch them${unreachable ? ' (the image reached no package index)' : ''}`,
      `install them into the image's environment or on this machine (pip install ${backend.requirements.join(' ')}), or give pip an index: nfhot hands this machine's pip settings (PIP_INDEX_URL, pip.conf) to the install; nothing was tagged`,
      tail,
    );
  }
  if (noIndex) {
    return new UserError(
      `${image}: ${unavailable} is needed and not in the image, and ${where}`,
      `patch with --no-deps to install the package alone, or add ${unavailable} to the image; or give pip an index: nfhot hands this machine's pip settings (PIP_INDEX_URL, pip.conf) to the install; nothing was tagged`,
      tail,
    );
  }
  const ours = /^nfhot: error: (.*)$/m.exec(stderr)?.[1];
  if (ours) {
    const hint = /after the install/.test(ours)
      ? 'something in the image puts another copy first (PYTHONPATH, a .pth file): remove it from the image, or choose the environment with --python; nothing was tagged'
      : /Error: /.test(ours)
        ? "the module does not compile with the image's Python; nothing was tagged"
        : 'nothing was tagged';
    return new UserError(`${image}: ${ours}`, hint);
  }
  const missing = NO_COMPILER.map((re) => re.exec(stderr)?.[1]).find(Boolean);
  if (missing) {
    const extension = /building '([^']+)' extension/.exec(stderr)?.[1];
    const what = extension ? `the compiled extension ${extension}` : 'a compiled extension';
    return new UserError(
      `cannot build ${what} in ${image}: the image has no ${missing === 'Rust' || missing === 'Cargo' ? 'Rust toolchain' : 'C/C++ compiler'} (${missing} not found)`,
      "nfhot builds inside the image, as pip there would: add a compiler to the image (gcc, or conda's c-compiler), or patch an image that has one; nothing was tagged",
      tail,
    );
  }
  if (/setuptools-scm was unable to detect version/.test(stderr)) {
    return new UserError(
      `cannot build in ${image}: the package takes its version from git (setuptools_scm), and nfhot had no git history to compute it from (the source is not in a git checkout)`,
      'patch from the git checkout or a git+URL@REF (nfhot then computes the version and hands it to the build), or give the project a fallback_version; nothing was tagged',
      tail,
    );
  }
  if (/fatal error: Python\.h: No such file or directory/.test(stderr)) {
    return new UserError(
      `cannot build a compiled extension in ${image}: the image has a compiler but not Python's headers (Python.h)`,
      "add Python's development headers to the image (python3-dev); nothing was tagged",
      tail,
    );
  }
  const cause = /^(ERROR: .*)$/m.exec(stderr)?.[1] ?? /(\w*Error: .*)$/m.exec(stderr)?.[1];
  return new UserError(
    `pip failed in ${image} (exit ${exitCode})${cause ? `: ${cause}` : ''}`,
    "pip's output is above; nothing was tagged",
    tail,
  );
}
