/**
 * The push-endpoint allow-list. The function POSTs to whatever endpoint a browser registered, so
 * without this anyone could make it call an internal address (SSRF). An entry is an origin;
 * "https://*.notify.windows.com" admits exactly one extra host label (WNS hosts vary by region).
 */
export interface AllowedOrigin {
  protocol: string;
  /** Exact host, or the suffix after "*." */
  host: string;
  wildcard: boolean;
  port: string;
}

export function parseAllowedOrigins(list: string): AllowedOrigin[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const wildcard = /^[a-z]+:\/\/\*\./i.test(entry);
      let u: URL;
      try {
        u = new URL(wildcard ? entry.replace('*.', 'wildcard.') : entry);
      } catch {
        throw new Error(`"${entry}" is not an origin`);
      }
      if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.pathname !== '/' || u.search || u.hash)
        throw new Error(`"${entry}" must be an http(s) origin without path`);
      return { protocol: u.protocol, host: wildcard ? u.hostname.slice('wildcard.'.length) : u.hostname, wildcard, port: u.port };
    });
}

/** True when the endpoint is an http(s) URL on an allowed origin, with no credentials in it. */
export function isAllowedEndpoint(endpoint: string, allowed: AllowedOrigin[]): boolean {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  return allowed.some((a) => {
    if (u.protocol !== a.protocol || u.port !== a.port) return false;
    if (!a.wildcard) return u.hostname === a.host;
    const label = u.hostname.slice(0, -(a.host.length + 1));
    return u.hostname.endsWith(`.${a.host}`) && /^[a-z0-9-]+$/.test(label);
  });
}
