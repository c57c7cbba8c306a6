import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, cpSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, LOCAL } from './paths.ts';
import { run, which } from './exec.ts';

/**
 * Server programs Debian lacks, built from the Go module proxy into .local/bin. The first build
 * takes minutes, so finished binaries are also kept in a machine-wide cache
 * (CHAT_TOOLS_CACHE, default ~/.cache/chat-platform/tools) that fresh clones reuse.
 */
interface GoTool {
  name: string;
  version: string;
  /** Built only when something asks for it (ensureTool), never by `npm start` or the tests. */
  onDemand?: boolean;
  build(gobin: string, log: (m: string) => void): Promise<void>;
}

const goInstall = (pkg: string) => async (gobin: string) => {
  await run('go', ['install', '-trimpath', pkg], { env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' }, quiet: true });
};

export const GO_TOOLS: GoTool[] = [
  {
    name: 'ferretdb',
    version: 'v1.24.2',
    // `go install …/cmd/ferretdb@v1.24.2` builds a binary that panics at start: the module zip lacks
    // build/version/version.txt, which FerretDB's own release process generates. So the module
    // source (from the proxy) is copied, that one file written, and built with the plain go tool.
    async build(gobin) {
      const info = JSON.parse(await run('go', ['mod', 'download', '-json', 'github.com/FerretDB/FerretDB@v1.24.2'], { quiet: true })) as { Dir: string };
      const src = path.join(LOCAL, 'build', 'ferretdb-src');
      rmSync(src, { recursive: true, force: true });
      cpSync(info.Dir, src, { recursive: true });
      await run('chmod', ['-R', 'u+w', src], { quiet: true });
      writeFileSync(path.join(src, 'build/version/version.txt'), 'v1.24.2\n');
      await run('go', ['build', '-trimpath', '-o', path.join(gobin, 'ferretdb'), './cmd/ferretdb'], { cwd: src, env: { ...process.env, CGO_ENABLED: '0' }, quiet: true });
      rmSync(src, { recursive: true, force: true });
    },
  },
  { name: 'minio', version: 'latest', build: goInstall('github.com/minio/minio@latest') },
  // The benchmark's peer (npm run bench).
  { name: 'centrifugo', version: 'v6.9.1', onDemand: true, build: goInstall('github.com/centrifugal/centrifugo/v6@v6.9.1') },
  // Renders k8s/overlays/* in the unit tests, as `kubectl apply -k` would.
  { name: 'kustomize', version: 'v5.7.1', build: goInstall('sigs.k8s.io/kustomize/kustomize/v5@v5.7.1') },
];

function cacheDir(): string {
  return process.env.CHAT_TOOLS_CACHE ?? path.join(os.homedir(), '.cache', 'chat-platform', 'tools');
}

export function toolPath(name: string): string {
  return path.join(BIN, name);
}

async function ensureGoTool(tool: GoTool, log: (m: string) => void): Promise<void> {
  const target = toolPath(tool.name);
  const stamp = `${target}.version`;
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === tool.version) return;
  mkdirSync(BIN, { recursive: true });
  const cached = path.join(cacheDir(), `${tool.name}-${tool.version}`);
  if (!existsSync(cached)) {
    if (!(await which('go'))) throw new Error(`Go is needed to build ${tool.name}; install Go 1.22+ and retry.`);
    log(`building ${tool.name} ${tool.version} from the Go module proxy (first time only; takes a few minutes)…`);
    const t0 = Date.now();
    const tmp = path.join(cacheDir(), `.tmp-${tool.name}-${process.pid}`);
    mkdirSync(tmp, { recursive: true });
    await tool.build(tmp, log);
    // rename is atomic, so concurrent first runs never see a half-written binary
    renameSync(path.join(tmp, tool.name), cached);
    rmSync(tmp, { recursive: true, force: true });
    log(`built ${tool.name} in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  const tmpTarget = `${target}.${process.pid}`;
  copyFileSync(cached, tmpTarget);
  chmodSync(tmpTarget, 0o755);
  renameSync(tmpTarget, target);
  writeFileSync(stamp, tool.version);
}

let aptUpdated = false;
/** Installs Debian packages that are missing (idempotent; a no-op when all are there). */
export async function ensureApt(packages: Array<{ bin: string; pkg: string }>, log: (m: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const p of packages) if (!(await which(p.bin)) && !existsSync(p.bin)) missing.push(p.pkg);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await run('apt-get', ['update', '-qq'], { env, quiet: true });
    aptUpdated = true;
  }
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, quiet: true });
}

export async function ensureTools(log: (m: string) => void, opts: { browser?: boolean } = {}): Promise<void> {
  // nginx's package also starts a system nginx on :80; we run our own, so stop that one if apt started it.
  const hadNginx = !!(await which('nginx'));
  await ensureApt([{ bin: 'nginx', pkg: 'nginx' }], log);
  if (!hadNginx) await run('sh', ['-c', 'service nginx stop || nginx -s stop || true'], { quiet: true }).catch(() => undefined);
  if (opts.browser) await ensureApt([{ bin: '/usr/bin/chromium', pkg: 'chromium' }], log);
  // The two builds share 2 cores; one after the other is as fast and far gentler.
  for (const tool of GO_TOOLS) if (!tool.onDemand) await ensureGoTool(tool, log);
}

/** Builds (or copies from the cache) one Go tool by name, including on-demand ones; returns its path. */
export async function ensureTool(name: string, log: (m: string) => void): Promise<string> {
  const tool = GO_TOOLS.find((t) => t.name === name);
  if (!tool) throw new Error(`Unknown tool ${name}`);
  await ensureGoTool(tool, log);
  return toolPath(name);
}
