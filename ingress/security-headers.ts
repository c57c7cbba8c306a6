/**
 * The response headers the web app is served with, in one place: the local nginx
 * (ingress/nginx.conf.ts) renders them, and k8s/manifests.test.ts checks that the web-nginx
 * ConfigMap (k8s/base/chat/web.yaml) sends the same. docs/security.md explains each choice.
 */

/**
 * SvelteKit's route announcer (a visually hidden live region in the root component it generates)
 * has a fixed inline style attribute. 'unsafe-hashes' with this hash lets exactly that attribute
 * value through and no other; ingress/security-headers.test.ts recomputes it from the installed
 * SvelteKit, so an upgrade that changes the style fails there instead of in users' consoles.
 */
export const SVELTEKIT_ANNOUNCER_STYLE_HASH = "'sha256-S8qMpvofolR8Mpjy4kQvEm7m1q8clzU4dfDH0AmvZjo='";

/**
 * Content-Security-Policy. No inline script anywhere: the build moves SvelteKit's bootstrap into
 * a file (web/scripts/externalize-bootstrap.mjs). No inline style but the announcer's (above):
 * components' CSS is extracted into files, Svelte 5 transitions run through the Web Animations
 * API, and dynamic `style=` values are set through the CSSOM (element.style), which CSP does not
 * restrict.
 * `connect-src 'self'` covers the Socket.IO WebSocket too: CSP 3 lets 'self' match ws:/wss: on
 * the page's own host and port (Chromium, Firefox and Safari 15.4+ implement it).
 * Uploaded files are same-origin (/chat-files/), previews of a file being sent are blob: URLs.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  `style-src 'self' 'unsafe-hashes' ${SVELTEKIT_ANNOUNCER_STYLE_HASH}`,
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Powerful features the app never uses, denied to it and to anything it might embed. Web Push and
 * notifications are not policy-controlled features (they have their own permission prompt), so
 * they are not listed; only features Chromium recognises are, because an unknown name is logged
 * as an error in every page's console.
 */
export const PERMISSIONS_POLICY = [
  'accelerometer',
  'camera',
  'display-capture',
  'geolocation',
  'gyroscope',
  'hid',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'serial',
  'usb',
]
  .map((f) => `${f}=()`)
  .join(', ');

export const APP_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  // Links in messages open other sites: they learn nothing, not even the origin (links carry
  // rel=noreferrer as well); requests to the app's own origin keep the full referrer.
  'Referrer-Policy': 'same-origin',
  'Permissions-Policy': PERMISSIONS_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // frame-ancestors 'none' for browsers that predate it.
  'X-Frame-Options': 'DENY',
};

/**
 * nginx `add_header` lines for these headers. nginx drops the server's add_header lines in any
 * location that has one of its own, so every such location repeats them.
 */
export function nginxSecurityHeaders(indent: string): string {
  return Object.entries(APP_SECURITY_HEADERS)
    .map(([k, v]) => `${indent}add_header ${k} "${v}" always;`)
    .join('\n');
}
