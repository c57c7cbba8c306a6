import { beforeAll, describe, expect, it } from 'vitest';
import { INGRESS_ROUTES, renderNginxConf } from '../ingress/nginx.conf.ts';
import { K8S_SOCKET_ROUTER, renderSocketRouterConf } from '../ingress/socket-router.conf.ts';
import { kustomizeBuild, type K8sObject } from '../scripts/k8s/kustomize.ts';
import { readStackFile } from '../scripts/k8s/stack-file.ts';

/**
 * The local nginx (ingress/nginx.conf.ts) and the Kubernetes Ingresses route the same public
 * paths to the same tiers. One difference is deliberate and checked: the cluster does not
 * publish /function/<fn>/ (the contract lets the public ingress hide it), and never a
 * function's root, where the connector delivers events.
 */
const FUNCTIONS = Object.keys(readStackFile().functions).sort();
const BUCKET = 'chat-files';

interface Route {
  ingress: string;
  path: string;
  pathType: string;
  service: string;
  namespace: string;
  annotations: Record<string, string>;
}
let routes: Route[] = [];

beforeAll(async () => {
  const objs = await kustomizeBuild('k8s/overlays/prod');
  routes = objs
    .filter((o): o is K8sObject => o.kind === 'Ingress')
    .flatMap((ing) =>
      ing.spec.rules.flatMap((r: any) =>
        r.http.paths.map((p: any) => ({
          ingress: ing.metadata.name,
          path: p.path,
          pathType: p.pathType,
          service: p.backend.service.name,
          namespace: ing.metadata.namespace!,
          annotations: ing.metadata.annotations ?? {},
        })),
      ),
    );
}, 600_000);

/** Which Ingress path serves a request path, the way ingress-nginx picks: regex paths (when the
 * host uses regex) and prefixes, longest first. */
function route(urlPath: string): Route | undefined {
  const candidates = routes.filter((r) =>
    r.pathType === 'ImplementationSpecific' ? new RegExp(`^${r.path}`, 'i').test(urlPath) : urlPath === r.path.replace(/\/$/, '') || urlPath.startsWith(r.path.endsWith('/') ? r.path : `${r.path}/`) || r.path === '/',
  );
  return candidates.sort((a, b) => b.path.length - a.path.length)[0];
}

/** Where the ImplementationSpecific regex rewrite sends a path. */
function rewrite(r: Route, urlPath: string): string {
  const m = new RegExp(`^${r.path}`, 'i').exec(urlPath)!;
  return r.annotations['nginx.ingress.kubernetes.io/rewrite-target']!.replace(/\$(\d)/g, (_, i) => m[Number(i)] ?? '');
}

const local = renderNginxConf({
  port: 8080,
  runDir: '/tmp/run',
  webRoot: '/srv/web',
  functions: Object.fromEntries(FUNCTIONS.map((fn, i) => [fn, 9100 + i])),
  gateways: [{ id: 'a', port: 9201 }, { id: 'b', port: 9202 }],
  storage: { bucket: BUCKET, port: 9000 },
  uploadMaxMiB: 25,
});
const localLocations = [...local.matchAll(/location\s+(=\s+)?(\S+)\s*\{/g)].map((m) => ({ exact: !!m[1], path: m[2]! }));

describe('Ingress vs local nginx', () => {
  it('both serve the web app at / and the socket gateways at /socket.io/', () => {
    expect(localLocations).toContainEqual({ exact: false, path: INGRESS_ROUTES.web });
    expect(localLocations).toContainEqual({ exact: false, path: INGRESS_ROUTES.socket });
    expect(route('/')).toMatchObject({ service: 'web', namespace: 'chat' });
    expect(route('/conversations/abc')).toMatchObject({ service: 'web' });
    // Through the socket router, which applies the local ingress's sticky rules (socket-router.test.ts).
    expect(route(`${INGRESS_ROUTES.socket}?EIO=4&transport=websocket`)).toMatchObject({ service: 'socket-router', namespace: 'chat' });
  });

  it.each(FUNCTIONS)('both route /api/%s/… to that function at /…', (fn) => {
    expect(localLocations).toContainEqual({ exact: false, path: INGRESS_ROUTES.api(fn) });
    const r = route(`${INGRESS_ROUTES.api(fn)}healthz`)!;
    expect(r).toMatchObject({ service: 'gateway', namespace: 'openfaas' });
    expect(rewrite(r, `${INGRESS_ROUTES.api(fn)}healthz`)).toBe(`${INGRESS_ROUTES.openfaas(fn)}healthz`);
    expect(rewrite(r, `${INGRESS_ROUTES.api(fn)}a/b`)).toBe(`${INGRESS_ROUTES.openfaas(fn)}a/b`);
  });

  it('both route the storage bucket path to object storage', () => {
    expect(localLocations).toContainEqual({ exact: false, path: `/${BUCKET}/` });
    expect(route(`/${BUCKET}/some/object`)).toMatchObject({ service: 'minio', namespace: 'chat' });
  });

  it('routes no path the local nginx does not know', () => {
    const known = new Set([INGRESS_ROUTES.web, INGRESS_ROUTES.socket, `/${BUCKET}/`, ...FUNCTIONS.map(INGRESS_ROUTES.api)]);
    for (const r of routes) {
      if (r.pathType === 'ImplementationSpecific') {
        // the API regex covers exactly the stack's functions
        expect(r.path).toBe(`/api/(${FUNCTIONS.join('|')})(/.+)`);
        continue;
      }
      expect(known, r.path).toContain(r.path);
    }
  });

  it('keeps function roots and /function/… off the public ingress (the one intended difference)', () => {
    for (const fn of FUNCTIONS) {
      // locally the OpenFaaS-style path is served too
      expect(localLocations).toContainEqual({ exact: false, path: INGRESS_ROUTES.openfaas(fn) });
      // in the cluster it falls through to the static web app, which answers POST with 405
      expect(route(INGRESS_ROUTES.openfaas(fn))?.service).toBe('web');
      expect(route(`/function/${fn}`)?.service).toBe('web');
      expect(route(INGRESS_ROUTES.api(fn))?.service, `${INGRESS_ROUTES.api(fn)} is the event entry point`).toBe('web');
      expect(route(`/api/${fn}`)?.service).toBe('web');
    }
  });

  it('gives sockets WebSocket-friendly timeouts and stickiness that holds without cookies', () => {
    const a = route('/socket.io/')!.annotations;
    // No balancing of ingress-nginx's own: its affinity cookie would send cookie-less clients to a
    // random pod per request, and a hash would ignore the gateway's cookie. The router behind it
    // routes as the local nginx does: the cookie first, then the engine.io session id.
    expect(a['nginx.ingress.kubernetes.io/upstream-hash-by']).toBeUndefined();
    expect(a['nginx.ingress.kubernetes.io/affinity']).toBeUndefined();
    const router = renderSocketRouterConf(K8S_SOCKET_ROUTER);
    for (const conf of [local, router]) {
      expect(conf).toMatch(/map \$arg_sid \$gw_by_sid/);
      expect(conf).toMatch(/map \$cookie_chat_gw \$\w+ \{\n\s+default \$gw_by_sid;/);
    }
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(120);
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(120);
    // the gateway itself sets chat_gw (see socket-gateway/src/index.ts); the ingress cookie must differ
    expect(local).toContain('$cookie_chat_gw');
  });

  it('limits bodies like the local nginx: small by default, the upload limit on storage', () => {
    const size = (p: string) => Number(route(p)!.annotations['nginx.ingress.kubernetes.io/proxy-body-size']!.replace(/m$/, ''));
    const localSizes = [...local.matchAll(/client_max_body_size (\d+)m;/g)].map((m) => Number(m[1]));
    const [localDefault, localStorage] = [Math.min(...localSizes), Math.max(...localSizes)];
    expect(size('/')).toBe(localDefault);
    expect(size('/socket.io/')).toBe(localDefault);
    // one MiB above the functions' own limit, so a function answers the contract's JSON 413 itself
    expect(size('/api/auth/login')).toBe(localDefault + 1);
    expect(size(`/${BUCKET}/x`)).toBe(localStorage);
    expect(route(`/${BUCKET}/x`)!.annotations['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
  });
});
