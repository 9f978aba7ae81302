// What commands print, and what they leave for main() to decide the exit with.
import { UserError, type ImageFailure } from '../../core/base/errors.js';
import { redact } from '../../core/base/redact.js';

export const out = (text: string): void => void process.stdout.write(`${redact(text)}\n`);

/** What a command leaves for main(): that a signal ended it as it should (watch, and what runs a task or a shell), and the exit code of what it ran. */
export const runState: { stoppedOnPurpose: boolean; exitWith?: number } = { stoppedOnPurpose: false };

/** The result is on stdout already, failures included: the error is only said on stderr. */
export class PartlyFailed extends UserError {}

/**
 * Prints a command's result: JSON, or what `human` makes of it. When some of its images failed
 * (the others were done, and the includes rewritten), says which and exits 1.
 */
export function finish<R extends { images: { image: string }[]; failed?: ImageFailure[] }>(
  json: boolean,
  result: R,
  human: (result: R) => string,
): void {
  const failed = result.failed ?? [];
  // An image patched but not pushed is one image, done and failed.
  const all = new Set([...failed.map((f) => f.image), ...result.images.map((i) => i.image)]).size;
  const summary = failed.length
    ? `${failed.length} of ${all} image${all === 1 ? '' : 's'} failed: ${failed.map((f) => `${f.image}: ${f.error}`).join('; ')}`
    : undefined;
  if (json) out(JSON.stringify(summary ? { ...result, error: summary } : result, null, 2));
  else {
    const text = human(result);
    if (text) out(text);
  }
  if (summary) throw new PartlyFailed(summary, failed.length === 1 ? failed[0]!.hint : undefined);
}
