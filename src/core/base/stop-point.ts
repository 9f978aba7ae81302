/**
 * Test hook for crash tests: with NFHOT_TEST_STOP_AT=<point> the process stops itself (SIGSTOP)
 * when it reaches that point, for a test to SIGKILL it there, or to change the world and let it
 * go on (SIGCONT). A no-op otherwise.
 */
export function stopPoint(point: string): void {
  if (process.env.NFHOT_TEST_STOP_AT !== point || reached) return;
  reached = true; // once: a step the run does again (a new work container after a prune) goes on
  process.kill(process.pid, 'SIGSTOP');
}

let reached = false;
