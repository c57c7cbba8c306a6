/**
 * The socket router for Kubernetes: the local ingress's sticky rules (ingress/nginx.conf.ts) in
 * front of gateway pods whose names are stable (a StatefulSet). ingress-nginx cannot do this
 * itself: its affinity cookie is its own, and a client without one is sent to a random pod on
 * every request (its `balanced` mode hashes a random key), which breaks long-polling for every
 * client that keeps no cookies; its hash of the client address ignores cookies altogether.
 *
 * So, as locally: the gateway's `chat_gw` cookie first, then the engine.io session id (which
 * starts with the pod's name), and a request with neither (a handshake) goes to the Service of
 * all ready pods. A name that no longer resolves or refuses (the pod is gone) falls back to the
 * Service too; the session is unknown there, and the client starts a new one, as locally.
 */
export interface SocketRouterOptions {
  listen: number;
  /** The gateway pods' common name: `socket-gateway` for pods socket-gateway-0, -1, … */
  podPrefix: string;
  /** Where one pod is reached, given the variable holding its ordinal. */
  podHost: (ordinal: string) => string;
  /** The Service of every ready pod (new sessions). */
  poolHost: string;
  /** The gateways' port. */
  port: number;
  /** DNS for the names above (cluster DNS); omitted when they are addresses. */
  resolver?: string;
  /** Directory for pid and temporary files (the container's root filesystem is read-only). */
  runDir: string;
}

export function renderSocketRouterConf(o: SocketRouterOptions): string {
  const pod = `${o.podPrefix.replace(/[^\w-]/g, (c) => `\\${c}`)}-(?<ordinal>\\d{1,4})`;
  const proxy = `
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      # The ingress in front set these from the client; they pass through unchanged.
      proxy_set_header X-Real-IP $http_x_real_ip;
      proxy_set_header X-Forwarded-For $http_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;
      proxy_connect_timeout 2s;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;`;
  return `# Generated from ingress/socket-router.conf.ts; do not edit.
worker_processes auto;
pid ${o.runDir}/nginx.pid;
error_log stderr warn;
events { worker_connections 8192; }
http {
  access_log off;
  server_tokens off;
  client_max_body_size 1m;
  client_body_temp_path ${o.runDir}/client_body;
  proxy_temp_path ${o.runDir}/proxy;
  fastcgi_temp_path ${o.runDir}/fastcgi;
  uwsgi_temp_path ${o.runDir}/uwsgi;
  scgi_temp_path ${o.runDir}/scgi;
${o.resolver ? `  # Pods come and go: their names are looked up per request (cached 5 s), not once at start.\n  resolver ${o.resolver} valid=5s ipv6=off;\n  resolver_timeout 2s;\n` : ''}
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  # The same order as the local ingress: the chat_gw cookie, else the session id, else any pod.
  # Only names of the gateway pods are accepted, so a forged cookie cannot point elsewhere.
  map $arg_sid $gw_by_sid {
    default "";
    "~^${pod}\\." ${o.podHost('$ordinal')};
  }
  map $cookie_chat_gw $gw_target {
    default $gw_by_sid;
    "~^${pod}$" ${o.podHost('$ordinal')};
  }
  map $gw_target $gw_host {
    "" ${o.poolHost};
    default $gw_target;
  }

  server {
    listen ${o.listen} backlog=4096;
    server_name _;
    location = /healthz { return 200 "ok\\n"; }
    location /socket.io/ {${proxy}
      proxy_pass http://$gw_host:${o.port};
      # The named pod is gone (its name no longer resolves, or it refuses): any pod will do.
      error_page 502 504 = @pool;
    }
    location @pool {${proxy}
      set $pool ${o.poolHost};
      proxy_pass http://$pool:${o.port};
    }
    location / { return 404; }
  }
}
`;
}

/** The router as deployed (k8s/base/chat/socket-router.nginx.conf, checked by k8s/manifests.test.ts). */
export const K8S_SOCKET_ROUTER: SocketRouterOptions = {
  listen: 8080,
  podPrefix: 'socket-gateway',
  podHost: (ordinal) => `socket-gateway-${ordinal}.socket-gateway-pods.chat.svc.cluster.local`,
  poolHost: 'socket-gateway.chat.svc.cluster.local',
  port: 3000,
  resolver: 'kube-dns.kube-system.svc.cluster.local',
  runDir: '/tmp',
};
