import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { K8S_SOCKET_ROUTER, renderSocketRouterConf } from '../../ingress/socket-router.conf.ts';
import { ROOT } from '../stack/paths.ts';

/** Writes the socket router's nginx.conf for k8s/base/chat (a ConfigMap made by kustomize from the file). */
export const SOCKET_ROUTER_CONF = path.join(ROOT, 'k8s/base/chat/socket-router.nginx.conf');

if (import.meta.url === `file://${process.argv[1]}`) writeFileSync(SOCKET_ROUTER_CONF, renderSocketRouterConf(K8S_SOCKET_ROUTER));
