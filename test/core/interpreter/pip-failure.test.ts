import { describe, expect, it } from 'vitest';
import { pipFailure } from '../../../src/core/interpreter/pip-failure.js';

describe('pipFailure', () => {
  it('names the compiled extension the image cannot build, and what is missing', () => {
    const stderr =
      "running build_ext\nbuilding 'greet._speed' extension\nx86_64-linux-gnu-gcc -Wsign-compare -c src/greet/_speed.c\nerror: command 'x86_64-linux-gnu-gcc' failed: No such file or directory\n  error: subprocess-exited-with-error\n";
    const err = pipFailure(stderr, 'org/tool:dev', 1);
    expect(err.message).toBe(
      'cannot build the compiled extension greet._speed in org/tool:dev: the image has no C/C++ compiler (x86_64-linux-gnu-gcc not found)',
    );
    expect(err.hint).toMatch(/add a compiler to the image/);
  });

  it('knows meson, CMake and Rust builds without their compilers', () => {
    expect(pipFailure("ERROR: Unknown compiler(s): [['cc'], ['gcc'], ['clang']]", 'img', 1).message).toBe(
      'cannot build a compiled extension in img: the image has no C/C++ compiler (cc not found)',
    );
    expect(pipFailure('CMake Error: No CMAKE_CXX_COMPILER could be found.', 'img', 1).message).toMatch(
      /no C\/C\+\+ compiler \(CMAKE_CXX_COMPILER not found\)/,
    );
    expect(pipFailure("error: can't find Rust compiler", 'img', 1).message).toMatch(
      /no Rust toolchain \(Rust not found\)/,
    );
  });

  it("says when only Python's headers are missing", () => {
    expect(pipFailure('src/x.c:1:10: fatal error: Python.h: No such file or directory', 'img', 1).message).toMatch(
      /has a compiler but not Python's headers/,
    );
  });

  it("gives the install's own reason, then pip's first error", () => {
    expect(
      pipFailure(
        'nfhot: error: after the install, `import greet` finds /x/greet/__init__.py, not the patch (sys.path: /x)',
        'img',
        1,
      ).message,
    ).toBe('img: after the install, `import greet` finds /x/greet/__init__.py, not the patch (sys.path: /x)');
    expect(
      pipFailure('Processing /w\nERROR: Could not find a version that satisfies the requirement nope\n', 'img', 1)
        .message,
    ).toBe('pip failed in img (exit 1): ERROR: Could not find a version that satisfies the requirement nope');
  });
});
