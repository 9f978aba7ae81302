import { inject } from 'vitest';

// Everything these tests run (nfhot, the docker CLI of the helpers, testContext's engine) talks to Podman's service.
process.env.DOCKER_HOST = inject('podman').host;
process.env.NFHOT_TEST_ENGINE = 'podman';
