import { inject } from 'vitest';

// Everything these tests run (nfhot, the docker CLI of the helpers, testContext's engine) talks to Podman's service.
// The Docker daemon stays reachable for what only it does here (building an image to load into Podman).
process.env.NFHOT_TEST_DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
process.env.DOCKER_HOST = inject('podman').host;
process.env.NFHOT_TEST_ENGINE = 'podman';
