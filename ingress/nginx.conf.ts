import { nginxSecurityHeaders } from './security-headers.ts';

/**
 * The ingress: one origin for the web app, the socket gateways, the functions and object storage.
 * Rendered per run (ports differ between `npm start` and test stacks); k8s/ mirrors these routes
 * in an Ingress, and a test checks that the two route the same paths.
 */
export interface IngressOptions {
  port: number;
  runDir: string;
  webRoot: string;
  /** A function's port, or the ports of its instances (balanced round robin). */
  functions: Record<string, number | number[]>;
  gateways: Array<{ id: string; port: number }>;
  storage?: { bucket: string; port: number };
  /** Largest upload body accepted on the storage path, in MiB. */
  uploadMaxMiB: number;
  accessLog?: string;
}

/** Public path prefixes and where they go; the Kubernetes Ingress must route the same set. */
export const INGRESS_ROUTES = {
  web: '/',
  socket: '/socket.io/',
  api: (fn: string) => `/api/${fn}/`,
  openfaas: (fn: string) => `/function/${fn}/`,
};

export function renderNginxConf(o: IngressOptions): string {
  const fnUpstreams = Object.entries(o.functions)
    // Idle upstream connections are dropped before Node's own 5 s keep-alive timeout would close
    // them under nginx, which would turn the next request on that connection into a 502.
    // An instance is never marked down (max_fails=0): during a rolling restart the one that came
    // back would otherwise still count as failed for 10 s and, with its peer stopping, every
    // request would get "no live upstreams". A stopped instance refuses connects at once, and a
    // refused connect moves the request (any method: nothing was sent) to the next instance.
    .map(([fn, port]) => `  upstream fn_${fn} { ${[port].flat().map((p) => `server 127.0.0.1:${p} max_fails=0;`).join(' ')} keepalive 32; keepalive_timeout 4s; }`)
    .join('\n');
  // No gateway is ever marked down (max_fails=0): nginx's default takes a server out for 10 s after
  // one failed connect, and when an instance dies the survivor's reconnect storm resets a few
  // connects too (accept queue overflow), which took both out and answered "no live upstreams" to
  // every reconnect for ~40 s. A dead instance refuses at once and the next server is tried.
  const gwServer = (port: number, extra = '') => `server 127.0.0.1:${port} max_fails=0${extra};`;
  // A sticky client whose instance is gone falls back to the others; Socket.IO then starts a new
  // session there and the cookie follows it.
  const gwUpstreams = o.gateways
    .map((g) => `  upstream gw_${g.id} { ${[gwServer(g.port), ...o.gateways.filter((b) => b !== g).map((b) => gwServer(b.port, ' backup'))].join(' ')} }`)
    .join('\n');
  const gwPool = o.gateways.length
    ? `  upstream gw_pool { least_conn;\n${o.gateways.map((g) => `    ${gwServer(g.port)}`).join('\n')}\n  }`
    : '';
  const gwMap = o.gateways.map((g) => `    ${g.id} gw_${g.id};`).join('\n');
  // Engine.IO session ids start with the instance's id and a dot (socket-gateway/src/index.ts).
  const sidMap = o.gateways.map((g) => `    ~^${g.id.replace(/[^\w-]/g, (c) => `\\${c}`)}\\. gw_${g.id};`).join('\n');
  const proxyCommon = `
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Prefix $fn_prefix;
      # Event batches from the connector run to ~0.8 MiB; below the body limit they stay in
      # memory instead of being written to a temporary file and read back for every call.
      client_body_buffer_size 1m;`;
  // /function/… carries the connector's event deliveries, which are idempotent by contract (a
  // redelivered batch is stored by id, once), so a POST whose connection failed is sent to the
  // next instance too. An instance closing its listener resets the connections still in its
  // accept queue, whose requests nginx has already sent: without this each was a 502 to the
  // connector during a rolling restart (seen in the rolling chaos test). /api/… stays as nginx
  // has it: a user's POST is not resent.
  const eventRetry = `
      proxy_next_upstream error timeout non_idempotent;`;
  const fnLocations = Object.keys(o.functions)
    .map(
      (fn) => `
    # ${fn}: /api/${fn}/… and /function/${fn}/… reach the function's own root
    location /api/${fn}/ { set $fn_prefix /api/${fn}; ${proxyCommon}
      proxy_pass http://fn_${fn}/; }
    location = /api/${fn} { set $fn_prefix /api/${fn}; ${proxyCommon}
      proxy_pass http://fn_${fn}/; }
    location /function/${fn}/ { set $fn_prefix /function/${fn}; ${proxyCommon}${eventRetry}
      proxy_pass http://fn_${fn}/; }
    location = /function/${fn} { set $fn_prefix /function/${fn}; ${proxyCommon}${eventRetry}
      proxy_pass http://fn_${fn}/; }`,
    )
    .join('\n');
  const storage = o.storage
    ? `
    # Presigned URLs are signed for this origin and path, so the Host header is passed unchanged.
    location /${o.storage.bucket}/ {
      client_max_body_size ${o.uploadMaxMiB + 1}m;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_pass http://127.0.0.1:${o.storage.port};
      proxy_hide_header X-Content-Type-Options;
      add_header X-Content-Type-Options nosniff always;
      add_header Content-Security-Policy "default-src 'none'; sandbox" always;
    }`
    : '';
  const socket = o.gateways.length
    ? `
    location /socket.io/ {
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 120s;
      proxy_send_timeout 120s;
      proxy_buffering off;
      # Sticky: a gateway names itself in the chat_gw cookie on the handshake and in the session
      # id; long-polling requests then keep reaching the instance that holds their session.
      proxy_pass http://$gw_upstream;
    }`
    : '';
  return `# Generated by scripts/stack for this run; do not edit.
worker_processes 2;
# A proxied WebSocket holds two connections (client and upstream): 10,000 sockets over the two
# workers need ~10,000 each, and more when accepts land unevenly. 20,000 descriptors is the
# usual per-process hard limit here.
worker_rlimit_nofile 20000;
daemon off;
pid ${o.runDir}/nginx.pid;
error_log stderr warn;
events { worker_connections 19000; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  # Which instance answered what, for tests that count failures while an instance stops ($uri: no query strings, no tokens).
  log_format upstreams '$msec $status $request_method $uri $upstream_addr $upstream_status';
  access_log ${o.accessLog ? `${o.accessLog} upstreams` : 'off'};
  client_body_temp_path ${o.runDir}/client_body;
  proxy_temp_path ${o.runDir}/proxy;
  fastcgi_temp_path ${o.runDir}/fastcgi;
  uwsgi_temp_path ${o.runDir}/uwsgi;
  scgi_temp_path ${o.runDir}/scgi;
  sendfile on;
  tcp_nopush on;
  server_tokens off;
  gzip on;
  gzip_types text/css application/javascript application/json image/svg+xml;
  # Small answers (acks, a profile) gain nothing from compression but cost both sides CPU.
  gzip_min_length 1024;
  # The contract's 1 MiB request limit, enforced here so an oversized body never reaches (and
  # half-closes) an upstream connection; the answer keeps the contract's JSON error shape.
  client_max_body_size 1m;

  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  # Sticky socket sessions. The chat_gw cookie (set by the gateway on the handshake) comes first;
  # a client that keeps no cookies (Node's client, bots, SDKs) is routed by its engine.io session
  # id, which names the instance that holds the session; a handshake has neither and goes to the
  # least busy instance.
  map $arg_sid $gw_by_sid {
    default gw_pool;
${sidMap}
  }
  map $cookie_chat_gw $gw_upstream {
    default $gw_by_sid;
${gwMap}
  }

${fnUpstreams}
${gwUpstreams}
${gwPool}

  server {
    # The kernel's limit rather than nginx's 511: thousands of clients reconnect at once when a gateway dies.
    listen 127.0.0.1:${o.port} backlog=4096;
    server_name _;
    set $fn_prefix "";
${nginxSecurityHeaders('    ')}

    error_page 413 = @too_large;
    location @too_large {
      default_type application/json;
      return 413 '{"error":{"code":"payload_too_large","message":"Request body is too large."}}';
    }

    root ${o.webRoot};
    location / {
      try_files $uri $uri/ /index.html;
    }
    location /_app/immutable/ {
      add_header Cache-Control "public, max-age=31536000, immutable";
${nginxSecurityHeaders('      ')}
    }
    location = /index.html {
      add_header Cache-Control "no-cache";
${nginxSecurityHeaders('      ')}
    }
${socket}
${fnLocations}
${storage}
  }
}
`;
}
