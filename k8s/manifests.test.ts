import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kustomizeBuild, parseYamlDocs, type K8sObject } from '../scripts/k8s/kustomize.ts';
import { validateAll } from '../scripts/k8s/validate.ts';
import { ROOT } from '../scripts/stack/paths.ts';
import { nginxSecurityHeaders } from '../ingress/security-headers.ts';
import { K8S_SOCKET_ROUTER, renderSocketRouterConf } from '../ingress/socket-router.conf.ts';

/**
 * Both overlays, rendered by the real kustomize and validated against the Kubernetes API
 * schemas, then the checks a reviewer would make by hand.
 */
const overlays: Record<'dev' | 'prod', K8sObject[]> = { dev: [], prod: [] };

beforeAll(async () => {
  // The first run may build kustomize from the Go module proxy (about a minute, then cached).
  [overlays.dev, overlays.prod] = await Promise.all([kustomizeBuild('k8s/overlays/dev'), kustomizeBuild('k8s/overlays/prod')]);
}, 600_000);

const of = (objs: K8sObject[], kind: string, name?: string) => objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objs: K8sObject[], kind: string, name: string) => {
  const found = of(objs, kind, name);
  expect(found, `${kind}/${name}`).toHaveLength(1);
  return found[0]!;
};
const WORKLOADS = ['Deployment', 'StatefulSet', 'Job'];
const podSpecs = (objs: K8sObject[]) => objs.filter((o) => WORKLOADS.includes(o.kind)).map((o) => ({ id: `${o.kind}/${o.metadata.name}`, pod: o.spec.template.spec }));
const containers = (pod: any): any[] => [...(pod.initContainers ?? []), ...pod.containers];

for (const env of ['dev', 'prod'] as const) {
  describe(`k8s/overlays/${env}`, () => {
    const objs = () => overlays[env];

    it('renders and validates against the Kubernetes API schemas', async () => {
      expect(objs().length).toBeGreaterThan(30);
      expect(await validateAll(objs())).toEqual([]);
    });

    it('puts everything in the chat, openfaas or openfaas-fn namespace', () => {
      for (const o of objs()) {
        if (o.kind === 'Namespace') continue;
        expect(['chat', 'openfaas', 'openfaas-fn'], `${o.kind}/${o.metadata.name}`).toContain(o.metadata.namespace);
      }
    });

    it('runs every container non-root, without privilege escalation or capabilities, on a read-only root filesystem', () => {
      for (const { id, pod } of podSpecs(objs())) {
        expect(pod.securityContext?.runAsNonRoot, id).toBe(true);
        expect(pod.securityContext?.runAsUser, id).toBeGreaterThan(0);
        expect(pod.securityContext?.seccompProfile?.type, id).toBe('RuntimeDefault');
        for (const c of containers(pod)) {
          expect(c.securityContext?.readOnlyRootFilesystem, `${id} ${c.name}`).toBe(true);
          expect(c.securityContext?.allowPrivilegeEscalation, `${id} ${c.name}`).toBe(false);
          expect(c.securityContext?.capabilities?.drop, `${id} ${c.name}`).toEqual(['ALL']);
          expect(c.securityContext?.runAsUser ?? pod.securityContext.runAsUser, `${id} ${c.name}`).not.toBe(0);
        }
      }
    });

    it('sets requests and limits on every container, and probes on every long-running one', () => {
      for (const { id, pod } of podSpecs(objs())) {
        for (const c of containers(pod)) {
          for (const k of ['requests', 'limits']) {
            expect(c.resources?.[k]?.cpu, `${id} ${c.name} ${k}.cpu`).toBeTruthy();
            expect(c.resources?.[k]?.memory, `${id} ${c.name} ${k}.memory`).toBeTruthy();
          }
        }
        if (id.startsWith('Job/')) continue;
        for (const c of pod.containers) {
          expect(c.readinessProbe, `${id} ${c.name} readiness`).toBeTruthy();
          expect(c.livenessProbe, `${id} ${c.name} liveness`).toBeTruthy();
        }
      }
    });

    it('pins every image to a version (no latest, no bare names)', () => {
      for (const { id, pod } of podSpecs(objs())) {
        for (const c of containers(pod)) {
          const tag = c.image.includes('@') ? c.image.split('@')[1] : c.image.split('/').pop().split(':')[1];
          expect(tag, `${id} ${c.image}`).toBeTruthy();
          expect(tag, `${id} ${c.image}`).not.toMatch(/^latest$/i);
        }
      }
    });

    it('runs the socket gateway as at least 2 replicas with an HPA on CPU, a PDB, probes and a draining shutdown', () => {
      const d = one(objs(), 'StatefulSet', 'socket-gateway');
      const hpa = one(objs(), 'HorizontalPodAutoscaler', 'socket-gateway');
      const pdb = one(objs(), 'PodDisruptionBudget', 'socket-gateway');
      expect(d.spec.replicas).toBeGreaterThanOrEqual(env === 'prod' ? 3 : 2);
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'StatefulSet', name: 'socket-gateway' });
      expect(hpa.spec.metrics).toContainEqual(expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }));
      expect(pdb.spec.maxUnavailable ?? 0).toBeLessThan(d.spec.replicas);
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      // The pod keeps serving while the ingress forgets it, then has time to close its sockets.
      const preStopSeconds = Number(c.lifecycle.preStop.exec.command.at(-1));
      expect(preStopSeconds).toBeGreaterThanOrEqual(5);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + 10);
      expect(d.spec.updateStrategy.type).toBe('RollingUpdate');
      expect(d.spec.podManagementPolicy).toBe('Parallel');
      // GATEWAY_ID is the pod's stable name, which the router resolves (next test).
      expect(c.env.find((e: any) => e.name === 'GATEWAY_ID').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
      const envNames = c.env.map((e: any) => e.name);
      expect(envNames).toEqual(expect.arrayContaining(['HOST', 'GATEWAY_ID', 'MONGO_URL', 'REDIS_URL', 'AMQP_URL']));
      expect(c.env.find((e: any) => e.name === 'HOST').value).toBe('0.0.0.0');
      for (const n of ['MONGO_URL', 'REDIS_URL', 'AMQP_URL']) expect(c.env.find((e: any) => e.name === n).valueFrom.secretKeyRef.name).toBe('chat-connections');
    });

    it('routes sockets through the socket router to gateway pods by name, with the generated config', () => {
      const gw = one(objs(), 'StatefulSet', 'socket-gateway');
      const pods = one(objs(), 'Service', 'socket-gateway-pods');
      // The router's pod names are <StatefulSet>-N.<its serviceName>: they must agree with K8S_SOCKET_ROUTER.
      expect(gw.spec.serviceName).toBe('socket-gateway-pods');
      expect(K8S_SOCKET_ROUTER.podPrefix).toBe(gw.metadata.name);
      expect(K8S_SOCKET_ROUTER.podHost('0')).toBe(`${gw.metadata.name}-0.${pods.metadata.name}.chat.svc.cluster.local`);
      expect(K8S_SOCKET_ROUTER.poolHost).toBe('socket-gateway.chat.svc.cluster.local');
      expect(pods.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: gw.spec.selector.matchLabels });
      expect(one(objs(), 'Service', 'socket-gateway').spec.selector).toEqual(gw.spec.selector.matchLabels);
      const router = one(objs(), 'Deployment', 'socket-router');
      expect(router.spec.replicas).toBeGreaterThanOrEqual(env === 'prod' ? 2 : 1);
      const volume = router.spec.template.spec.volumes.find((v: any) => v.name === 'config');
      const cm = one(objs(), 'ConfigMap', volume.configMap.name) as { data: Record<string, string> };
      expect(cm.data['nginx.conf'], 'stale: npx tsx scripts/k8s/generate-socket-router.ts').toBe(renderSocketRouterConf(K8S_SOCKET_ROUTER));
      expect(readFileSync(path.join(ROOT, 'k8s/base/chat/socket-router.nginx.conf'), 'utf8')).toBe(cm.data['nginx.conf']);
      // The gateways take connections from the router only; the router from ingress-nginx.
      const fromRouter = one(objs(), 'NetworkPolicy', 'socket-gateway-from-router').spec;
      expect(fromRouter.podSelector.matchLabels).toEqual(gw.spec.selector.matchLabels);
      expect(fromRouter.ingress[0].from).toEqual([{ podSelector: { matchLabels: router.spec.selector.matchLabels } }]);
      expect(one(objs(), 'NetworkPolicy', 'socket-router-from-ingress').spec.ingress[0].ports).toEqual([{ port: 8080 }]);
    });

    it('runs the connector against the OpenFaaS gateway, reading functions from it', () => {
      const c = one(objs(), 'Deployment', 'connector').spec.template.spec.containers[0];
      const env = Object.fromEntries(c.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
      expect(env).toMatchObject({ FUNCTION_SOURCE: 'gateway', GATEWAY_URL: 'http://gateway.openfaas.svc.cluster.local:8080', HOST: '0.0.0.0' });
      expect(c.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/var/openfaas/secrets' }));
    });

    it('serves the web app from nginx on a Service', () => {
      expect(one(objs(), 'Deployment', 'web').spec.template.spec.containers[0].image).toMatch(/chat\/web:\d/);
      expect(one(objs(), 'Service', 'web').spec.ports[0]).toMatchObject({ port: 8080 });
    });

    it('serves the web app with the CSP, Referrer-Policy and Permissions-Policy of the local ingress, in every location', () => {
      const cm = one(objs(), 'ConfigMap', 'web-nginx') as { data: Record<string, string> };
      expect(cm.data['security-headers.conf']?.trim()).toBe(nginxSecurityHeaders('').trim());
      const conf = cm.data['nginx.conf']!;
      const include = 'include /etc/nginx/security-headers.conf;';
      // nginx inherits add_header only into locations without one of their own.
      const server = conf.slice(conf.indexOf('server {'));
      expect(server.split('location')[0]).toContain(include);
      for (const block of conf.match(/location [^{]+\{[^}]*\}/g) ?? []) if (block.includes('add_header')) expect(block, block).toContain(include);
      expect(conf).not.toMatch(/add_header (X-Content-Type-Options|X-Frame-Options|Referrer-Policy|Content-Security-Policy)/);
      const mounts = one(objs(), 'Deployment', 'web').spec.template.spec.containers[0].volumeMounts;
      expect(mounts).toContainEqual(expect.objectContaining({ mountPath: '/etc/nginx/security-headers.conf', subPath: 'security-headers.conf' }));
    });

    it('keeps the data services persistent, labelled for their network policy', () => {
      for (const name of ['redis', 'rabbitmq', 'mongodb', 'minio']) {
        const s = one(objs(), 'StatefulSet', name);
        expect(s.spec.volumeClaimTemplates?.[0]?.spec.resources.requests.storage, name).toBeTruthy();
        expect(s.spec.template.metadata.labels['chat.example.com/tier'], name).toBe('data');
        expect(one(objs(), 'Service', name).metadata.namespace).toBe('chat');
      }
    });

    it('admits to functions only the OpenFaaS gateway, and to the gateway only the ingress and the connector', () => {
      const fnPolicy = one(objs(), 'NetworkPolicy', 'chat-functions-from-gateway');
      expect(fnPolicy.metadata.namespace).toBe('openfaas-fn');
      expect(fnPolicy.spec.podSelector.matchExpressions[0].values).toEqual(['auth', 'db', 'file', 'notification']);
      expect(fnPolicy.spec.ingress).toHaveLength(1);
      expect(fnPolicy.spec.ingress[0].from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openfaas' } }, podSelector: { matchLabels: { app: 'gateway' } } },
      ]);
      const gw = one(objs(), 'NetworkPolicy', 'gateway-from-ingress-and-connector');
      expect(gw.metadata.namespace).toBe('openfaas');
      const from = gw.spec.ingress[0].from;
      expect(from).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } });
      expect(from).toContainEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'chat' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'connector' } },
      });
      // the socket gateway, the web app and the data services are not among them
      expect(JSON.stringify(from)).not.toMatch(/socket-gateway|"web"|redis|mongodb/);
    });

    it('denies by default in chat and lets only project pods and chat functions reach the data services', () => {
      expect(one(objs(), 'NetworkPolicy', 'default-deny-ingress').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
      const data = one(objs(), 'NetworkPolicy', 'data-from-project');
      expect(data.spec.podSelector.matchLabels).toEqual({ 'chat.example.com/tier': 'data' });
      expect(data.spec.ingress[0].from).toEqual([
        { podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'chat' } } },
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openfaas-fn' } },
          podSelector: { matchExpressions: [{ key: 'faas_function', operator: 'In', values: ['auth', 'db', 'file', 'notification'] }] },
        },
      ]);
      // every project pod in chat carries the label the policy admits
      for (const o of objs().filter((x) => WORKLOADS.includes(x.kind) && x.metadata.namespace === 'chat'))
        expect(o.spec.template.metadata.labels['app.kubernetes.io/part-of'], `${o.kind}/${o.metadata.name}`).toBe('chat');
    });
  });
}

describe('prod specifics', () => {
  it('replicates RabbitMQ, MongoDB and MinIO across nodes with disruption budgets', () => {
    for (const [name, replicas] of [['rabbitmq', 3], ['mongodb', 3], ['minio', 4]] as const) {
      const s = one(overlays.prod, 'StatefulSet', name);
      expect(s.spec.replicas, name).toBe(replicas);
      expect(s.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
      expect(one(overlays.prod, 'PodDisruptionBudget', name).spec.maxUnavailable).toBe(1);
    }
  });

  it('serves the public host over TLS', () => {
    for (const ing of of(overlays.prod, 'Ingress')) expect(ing.spec.tls?.[0]?.secretName, ing.metadata.name).toBe('chat-tls');
  });
});

describe('k8s/secrets templates', () => {
  it('hold no real values and validate as Secrets', async () => {
    for (const f of ['chat.example.yaml', 'openfaas-fn.example.yaml']) {
      const docs = parseYamlDocs(readFileSync(path.join(ROOT, 'k8s/secrets', f), 'utf8'));
      expect(await validateAll(docs)).toEqual([]);
      for (const s of docs) {
        expect(s.kind).toBe('Secret');
        expect(s.data, s.metadata.name).toBeUndefined();
        const values = Object.values(s.stringData ?? {});
        // each Secret has placeholders; fixed non-secret words (user names) may stay
        expect(values.some((v) => v.includes('REPLACE_ME')), s.metadata.name).toBe(true);
      }
    }
  });

  it('cover every secret the workloads and functions name', async () => {
    const declared = new Set(
      ['chat.example.yaml', 'openfaas-fn.example.yaml'].flatMap((f) =>
        parseYamlDocs(readFileSync(path.join(ROOT, 'k8s/secrets', f), 'utf8')).map((s) => `${s.metadata.namespace}/${s.metadata.name}`),
      ),
    );
    const used = new Set<string>();
    const walk = (v: unknown) => {
      if (!v || typeof v !== 'object') return;
      const o = v as Record<string, any>;
      if (typeof o.secretKeyRef?.name === 'string') used.add(`chat/${o.secretKeyRef.name}`);
      if (typeof o.secret?.secretName === 'string') used.add(`chat/${o.secret.secretName}`);
      Object.values(o).forEach(walk);
    };
    podSpecs(overlays.prod).forEach((p) => walk(p.pod));
    const fns = await kustomizeBuild('k8s/base/functions');
    for (const f of fns) for (const s of f.spec.secrets) used.add(`openfaas-fn/${s}`);
    expect([...used].filter((s) => !declared.has(s))).toEqual([]);
  });
});
