import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensurePostgres, ensureRabbit, ensureRedis } from './stack/infra.ts';
import { LOCAL, ROOT } from './stack/paths.ts';
import { ensureTools } from './stack/tools.ts';

/**
 * `npm test`: type-checks (the web app with svelte-check too) and lints, then runs every vitest
 * project (unit, integration against a real stack, chaos, browser) and ends with one plain line, "N passed, N failed", which CI reads.
 */
const log = (m: string) => console.log(`[test] ${m}`);

function exec(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

await Promise.all([
  ensureRedis(log),
  ensureRabbit(log),
  process.env.FERRETDB_BACKEND === 'sqlite' || process.env.FERRETDB_POSTGRESQL_URL ? Promise.resolve() : ensurePostgres(log),
  ensureTools(log, { browser: true }),
]);

let extraFailed = 0;
let extraPassed = 0;
// Static checks count as one test each in the total, so a type or lint error fails CI visibly.
for (const [what, cmd, args] of [
  ['type-checking', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['linting', 'npx', ['eslint', '--max-warnings=0', '.']],
  // The web app's own type-check (its .svelte files and the .ts beside them): the root tsconfig
  // leaves web/ out because SvelteKit generates its tsconfig. Warnings fail it too.
  ['checking the web app', 'npm', ['run', '--silent', '--workspace', 'web', 'check', '--', '--fail-on-warnings']],
] as const) {
  log(`${what}…`);
  if ((await exec(cmd, [...args])) === 0) extraPassed++;
  else extraFailed++;
}

mkdirSync(LOCAL, { recursive: true });
const results = path.join(LOCAL, 'vitest-results.json');
rmSync(results, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)];
const code = await exec('npx', args);

let passed = extraPassed;
let failed = extraFailed;
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numFailedTestSuites: number;
    testResults: Array<{ status: string; assertionResults: unknown[] }>;
  };
  passed += r.numPassedTests;
  // A file that failed to load has no test results; it counts as one failure.
  const brokenFiles = r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
  failed += r.numFailedTests + brokenFiles;
} else {
  failed += 1;
}
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
