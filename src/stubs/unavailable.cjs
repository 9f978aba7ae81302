// What the bundle gives in place of the modules dockerode loads for features nfhot never uses
// (the ssh:// transport, BuildKit sessions and progress): loading them costs more than the rest of nfhot.
// Anything that reaches for one of them gets a clear error instead.
function unavailable() {
  throw new Error(
    "this part of dockerode is not in nfhot's build (ssh:// DOCKER_HOST and BuildKit sessions and progress are not supported)",
  );
}
module.exports = new Proxy(unavailable, { get: (_target, key) => (key === '__esModule' ? false : unavailable) });
