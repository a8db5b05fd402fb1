// End-to-end: the seed's FlowToggle, built with Vite, in headless Debian Chromium, against a
// live gateway on ANOTHER origin. Exits 0 when every check passed, 1 otherwise.
//
//   gateway  gunicorn (wsgi:app) on 127.0.0.1:<free port>, SQLite file in a temp dir
//   page     vite preview of dist/ on 127.0.0.1:<another free port>
//   browser  /usr/bin/chromium through playwright-core
//
// The page sets <base href=gateway> (src/main.jsx), so the component's verbatim relative fetch
// goes cross-origin: Chromium sends an OPTIONS preflight (PUT + Authorization), then the PUT.
// The gateway's JSON access log (stderr) shows both.
//
// Environment: PYTHON (default <repo>/.venv/bin/python), CHROMIUM (default /usr/bin/chromium),
// E2E_ARTIFACTS (default <repo>/test-artifacts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = resolve(HERE, '..');
const REPO = resolve(EXAMPLE, '../..');
const PYTHON = process.env.PYTHON || join(REPO, '.venv/bin/python');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.E2E_ARTIFACTS || join(REPO, 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'flow-toggle.png');
const VITE = join(EXAMPLE, 'node_modules/.bin/vite');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const OVERALL_TIMEOUT_MS = 90_000;
const CONFLICT = 'Cannot toggle status: Flow is currently being executed';

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const children = [];
const tmp = mkdtempSync(join(tmpdir(), 'flow-toggle-e2e-'));
const env = {
  ...process.env,
  DATABASE_URL: `sqlite:///${join(tmp, 'gateway.sqlite')}`,
  APP_ENV: 'development',
  GATEWAY_INSTANCE_PATH: join(tmp, 'instance'),
  PYTHONPATH: REPO,
};

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function start(name, command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop();
      lines.push(...parts);
    });
  }
  children.push({ name, child });
  return { child, lines };
}

async function stopAll() {
  for (const { child } of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGINT'); // gunicorn: quick shutdown; vite: exits
    const exited = new Promise((done) => child.once('exit', done));
    const grace = new Promise((done) => setTimeout(done, 5000, false).unref());
    if (await Promise.race([exited.then(() => true), grace])) continue;
    child.kill('SIGKILL');
    await exited;
  }
}

// Node's fetch keeps an idle connection for the next request; the gateway closes one after 5 s
// (gunicorn keepalive), and when a blocking step (spawnSync) held the event loop past that, the
// next request went out on the closed connection ("fetch failed"). Every request here: its own.
const OWN_CONNECTION = { Connection: 'close' };

async function waitForHttp(url, what, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { headers: OWN_CONNECTION });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not answer at ${url} within ${seconds}s`);
}

function python(...args) {
  const run = spawnSync(PYTHON, [join(HERE, 'seed.py'), ...args], { cwd: REPO, env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`seed.py ${args.join(' ')} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

function buildIfStale() {
  const built = join(EXAMPLE, 'dist/index.html');
  const sources = [
    join(EXAMPLE, 'index.html'),
    join(EXAMPLE, 'vite.config.js'),
    ...readdirSync(join(EXAMPLE, 'src')).map((name) => join(EXAMPLE, 'src', name)),
  ];
  if (existsSync(built)) {
    const builtAt = statSync(built).mtimeMs;
    if (sources.every((file) => statSync(file).mtimeMs <= builtAt)) return;
  }
  log('dist/ missing or older than the sources: vite build');
  const run = spawnSync(VITE, ['build', '--logLevel', 'warn'], { cwd: EXAMPLE, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`vite build failed:\n${run.stdout}${run.stderr}`);
}

function accessLog(lines) {
  return lines.flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const entry = JSON.parse(line);
      return entry.method ? [entry] : [];
    } catch {
      return [];
    }
  });
}

async function main() {
  buildIfStale();
  const gatewayPort = await freePort();
  const pagePort = await freePort();
  const gateway = `http://127.0.0.1:${gatewayPort}`;
  const pageOrigin = `http://127.0.0.1:${pagePort}`;
  assert.notEqual(gateway, pageOrigin);

  const seeded = python('seed');
  const { token, flow_id: flowId, user_id: userId } = seeded;
  log(`seeded user ${userId}, flow ${flowId} (is_active 1)`);

  const gw = start('gateway', PYTHON, ['-m', 'gunicorn', '-c', 'gunicorn.conf.py', 'wsgi:app'], {
    cwd: REPO,
    env: { ...env, HOST: '127.0.0.1', PORT: String(gatewayPort), WEB_CONCURRENCY: '2' },
  });
  start('page', VITE, ['preview', '--host', '127.0.0.1', '--port', String(pagePort), '--strictPort'], {
    cwd: EXAMPLE,
    env: process.env,
  });
  try {
    await Promise.all([
      waitForHttp(`${gateway}/gassapi2/backend/?act=health`, 'gateway'),
      waitForHttp(`${pageOrigin}/`, 'vite preview'),
    ]);
  } catch (error) {
    throw new Error(`${error.message}\ngateway output:\n${gw.lines.slice(-30).join('\n')}`);
  }
  log(`gateway ${gateway}, page ${pageOrigin}`);

  // Flow state: over the API when the gateway has a flow detail act, always from the database.
  let apiHasFlowDetail = true;
  async function checkState(expected, step) {
    const db = python('state', flowId);
    assert.equal(db.is_active, expected.is_active, `${step}: is_active in the database`);
    assert.equal(db.status_changes, expected.status_changes, `${step}: audit rows`);
    let via = 'database';
    if (apiHasFlowDetail) {
      const response = await fetch(`${gateway}/gassapi2/backend/?act=flow&id=${flowId}`, {
        headers: { ...OWN_CONNECTION, Authorization: `Bearer ${token}` },
      });
      const body = await response.json();
      if (response.status === 200 && body.success) {
        assert.equal(Number(body.data.is_active), expected.is_active, `${step}: is_active via API`);
        via = 'API and database';
      } else if (response.status === 400 || response.status === 404) {
        apiHasFlowDetail = false; // act `flow` not there (yet): the database is the source
        log(`GET ?act=flow answered ${response.status} «${body.message}»: state from the database`);
      } else {
        throw new Error(`${step}: GET ?act=flow answered ${response.status} ${body.message}`);
      }
    }
    log(`${step}: is_active ${db.is_active}, ${db.status_changes} audit rows (${via})`);
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 900, height: 320 } });
    page = await context.newPage();
    const consoleLines = [];
    const pageErrors = [];
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => pageErrors.push(String(error)));

    const query = new URLSearchParams({ flow: flowId, active: '1', token, api: `${gateway}/` });
    await page.goto(`${pageOrigin}/?${query}`);
    const button = page.locator('button');
    const label = async () => (await button.textContent()).trim();
    await button.waitFor();

    // The setup is what it claims: page and API on different origins, the component verbatim.
    assert.equal(new URL(page.url()).origin, pageOrigin);
    assert.equal(await page.evaluate(() => document.baseURI), `${gateway}/`);
    assert.equal(await page.evaluate(() => localStorage.getItem('token')), token);
    assert.equal(await label(), 'Deactivate');
    assert.match(await button.getAttribute('class'), /\bbtn-warning\b/);
    await checkState({ is_active: 1, status_changes: 0 }, 'initial');

    async function click(step, expectedStatus, expectedLabel) {
      const answered = page.waitForResponse(
        (r) => r.url().includes('act=flow_toggle_active') && r.request().method() === 'PUT',
      );
      await button.click();
      const response = await answered;
      await page.waitForFunction(() => {
        const b = document.querySelector('button');
        return b && !b.disabled && b.textContent !== 'Loading...';
      });
      assert.equal(new URL(response.url()).origin, gateway, `${step}: request went to the gateway`);
      assert.equal(response.status(), expectedStatus, `${step}: HTTP status`);
      assert.equal(response.headers()['access-control-allow-origin'], '*', `${step}: CORS header`);
      assert.equal(
        await response.request().headerValue('authorization'),
        `Bearer ${token}`,
        `${step}: Bearer from localStorage 'token'`,
      );
      const body = await response.json();
      assert.equal(await label(), expectedLabel, `${step}: button label`);
      log(`${step}: PUT ${response.status()} «${body.message}» → label «${expectedLabel}»`);
      return body;
    }

    const first = await click('click 1', 200, 'Activate');
    assert.equal(first.message, 'Flow deactivated');
    assert.match(await button.getAttribute('class'), /\bbtn-success\b/);
    assert.equal(await page.getByTestId('is-active').textContent(), '0');
    await checkState({ is_active: 0, status_changes: 1 }, 'after click 1');

    const second = await click('click 2', 200, 'Deactivate');
    assert.equal(second.message, 'Flow activated');
    assert.equal(await page.getByTestId('is-active').textContent(), '1');
    await checkState({ is_active: 1, status_changes: 2 }, 'after click 2');

    const execution = python('execute', flowId);
    log(`registered running execution ${execution.execution_id}`);
    const third = await click('click 3 (flow running)', 409, 'Deactivate');
    assert.equal(third.success, false);
    assert.match(third.message, new RegExp(CONFLICT));
    assert.match(await button.getAttribute('class'), /\bbtn-warning\b/);
    assert.equal(await page.getByTestId('is-active').textContent(), '1');
    await checkState({ is_active: 1, status_changes: 2 }, 'after click 3');

    assert.deepEqual(pageErrors, [], 'no uncaught page errors');
    const failures = consoleLines.filter((l) => /Toggle failed|CORS|Access-Control/i.test(l));
    assert.deepEqual(failures, [], 'no fetch failure or CORS error in the console');

    // The gateway saw a real preflight before the first PUT, and the Bearer authenticated PUTs.
    let entries = [];
    for (let i = 0; i < 50; i += 1) {
      entries = accessLog(gw.lines);
      if (entries.filter((e) => e.method === 'PUT').length >= 3) break;
      await sleep(100);
    }
    const preflights = entries.filter((e) => e.method === 'OPTIONS');
    const puts = entries.filter((e) => e.method === 'PUT');
    assert.ok(preflights.length >= 1, 'the gateway logged an OPTIONS preflight');
    assert.ok(preflights.every((e) => e.status === 200), 'preflights answered 200');
    assert.ok(entries.indexOf(preflights[0]) < entries.indexOf(puts[0]), 'preflight before PUT');
    assert.deepEqual(puts.map((e) => e.status), [200, 200, 409], 'PUT statuses in the access log');
    for (const put of puts) {
      assert.equal(put.act, 'flow_toggle_active');
      assert.equal(put.user_id, userId, 'PUT authenticated as the seeded user');
      assert.equal(put.flow_id, flowId);
    }
    log(`gateway access log: ${preflights.length} OPTIONS preflight(s) (200), PUTs ${puts.map((e) => e.status).join(', ')}`);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    log(`screenshot ${SCREENSHOT}`);
    if (consoleLines.length) log(`browser console:\n  ${consoleLines.join('\n  ')}`);
  } catch (error) {
    if (page) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT }).catch(() => {});
    }
    error.message += `\ngateway output (last lines):\n${gw.lines.slice(-20).join('\n')}`;
    throw error;
  } finally {
    await browser.close();
  }
}

const watchdog = setTimeout(() => {
  console.error(`FAILED: no result after ${OVERALL_TIMEOUT_MS / 1000}s`);
  stopAll().finally(() => process.exit(1));
}, OVERALL_TIMEOUT_MS);

try {
  await main();
  log('PASSED');
} catch (error) {
  console.error(`FAILED: ${error.stack || error}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
