/**
 * Credentials given inside a URL must never reach output, logs, labels or the image.
 * Every string nfhot prints goes through `redact`, which knows the secrets seen so far.
 */
const secrets = new Set<string>();

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/** Remembers the userinfo of `url` (user and password) as secrets; returns the URL without them. */
export function stripCredentials(url: string): string {
  return url.replace(URL_USERINFO, (_whole, scheme: string, userinfo: string) => {
    const ssh = /^(ssh|git\+ssh):\/\//i.test(scheme);
    const [user = '', password] = userinfo.split(':', 2) as [string, string | undefined];
    if (password !== undefined) rememberSecret(password);
    // An ssh user name (git@) is not a secret. An https one is dropped from the URL, and redacted
    // everywhere when it stands alone and is long enough to be a token rather than a name.
    if (ssh) return `${scheme}${user}@`;
    if (password === undefined && user.length >= 16) rememberSecret(user);
    return scheme;
  });
}

export function rememberSecret(secret: string): void {
  if (secret.length < 3) return; // too short to redact without mangling ordinary text
  secrets.add(secret);
  try {
    const decoded = decodeURIComponent(secret);
    if (decoded !== secret) secrets.add(decoded);
  } catch {
    /* not percent-encoded */
  }
  secrets.add(encodeURIComponent(secret));
}

export function redact(text: string): string {
  let out = text.replace(URL_USERINFO, (whole) => stripCredentials(whole));
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}
