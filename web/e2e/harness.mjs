// The shared harness of the end-to-end journeys: a real renkei server (temp data dir, free
// port), the CLI, JSON calls, named checks with failure screenshots, and Debian's Chromium.
//
// Environment: RENKEI_BIN (server binary), CHROMIUM (default /usr/bin/chromium),
// CARGO_TARGET_DIR (where cargo builds), E2E_RENKEI_LOG (the servers' log filter, default
// `warn`; when set, each server's output is also written to test-results/server-<port>.log).

import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, homedir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const here = dirname(fileURLToPath(import.meta.url));
export const web = resolve(here, "..");
export const repo = resolve(web, "..");
export const results = join(web, "test-results");
mkdirSync(results, { recursive: true });

export const log = (...args) => console.log("e2e:", ...args);

export function serverBinary() {
  if (process.env.RENKEI_BIN) return process.env.RENKEI_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache/renkei/target");
  log(`building the server (cargo build -p renkei, target ${target})`);
  const built = spawnSync("cargo", ["build", "-p", "renkei", "--locked"], {
    cwd: repo,
    stdio: "inherit",
    env: { ...process.env, CARGO_TARGET_DIR: target },
  });
  if (built.status !== 0) throw new Error("cargo build failed");
  return join(target, "debug", "renkei");
}

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export function cli(bin, dataDir, args, input) {
  const r = spawnSync(bin, ["admin", "--data-dir", dataDir, ...args], { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`renkei admin ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** Starts `renkei serve`; `extraArgs` are added to its command line (e.g. `--dicom-listen`),
 *  and `env` to its environment (e.g. `RENKEI_TURN_URLS`). */
export async function startServer(bin, extraArgs = [], env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "renkei-e2e-"));
  const port = await freePort();
  const child = spawn(bin, ["serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    // RENKEI_CALL_UDP_LISTEN: servers started together (two hospitals) cannot share the
    // call relay's default UDP port.
    env: { RENKEI_CALL_UDP_LISTEN: "127.0.0.1:0", ...process.env, ...env, RENKEI_LOG: process.env.E2E_RENKEI_LOG || "warn" },
  });
  let out = "";
  let err = "";
  const logFile = process.env.E2E_RENKEI_LOG ? join(results, `server-${port}.log`) : null;
  if (logFile) for (const s of [child.stdout, child.stderr]) s.on("data", (d) => appendFileSync(logFile, d));
  child.stderr.on("data", (d) => (err += d));
  const password = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${out}\n${err}`)), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/password:\s+(\S+)/);
      if (m && out.includes("listening")) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on("exit", (code) => fail(new Error(`server exited (${code}):\n${out}\n${err}`)));
  });
  return { child, dataDir, base: `http://127.0.0.1:${port}`, adminPassword: password, stderr: () => err };
}

export async function json(base, method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export class Check {
  passed = 0;
  failed = 0;
  names = [];
  async run(name, fn) {
    const started = Date.now();
    try {
      await fn();
      this.passed++;
      log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      this.failed++;
      log(`FAIL ${name}: ${e.stack || e}`);
      // What each open page showed when it failed.
      for (const [i, page] of (globalThis.openPages ?? []).entries()) {
        if (!page.isClosed()) await page.screenshot({ path: join(results, `failure-${this.failed}-${i}.png`) }).catch(() => {});
      }
    }
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Launches Debian's Chromium headless; `extraArgs` are added (e.g. the fake camera). */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", ...extraArgs],
  });
}

/** Stops the server and removes its data. */
export async function stopServer(server) {
  server.child.kill("SIGTERM");
  await new Promise((ok) => server.child.once("exit", ok).once("error", ok));
  rmSync(server.dataDir, { recursive: true, force: true });
}

/** Signs in through the login form. */
export async function signIn(page, base, user, password) {
  await page.goto(base + "/");
  await page.getByLabel(/User ID|ユーザーID/).fill(user.login);
  await page.getByLabel(/^(Password|パスワード)$/).fill(password);
  await page.getByRole("button", { name: /^(Sign in|ログイン)$/ }).click();
}

/** Replaces a one-time password on the screen that asks for it. */
export async function replaceOneTimePassword(page, user) {
  await page.getByRole("heading", { name: "Choose your password" }).waitFor();
  await page.getByLabel("One-time password").fill(user.first);
  await page.getByLabel("New password", { exact: true }).fill(user.password);
  await page.getByLabel("New password again").fill(user.password);
  await page.getByRole("button", { name: "Save password" }).click();
}

/** Posts JSON from inside a signed-in page (its session cookie and CSRF token). */
export function pageJson(page, method, path, body) {
  return page.evaluate(
    async ([method, path, body]) => {
      const csrf = decodeURIComponent((document.cookie.match(/renkei_csrf=([^;]+)/) || [])[1] || "");
      const res = await fetch(path, {
        method,
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    [method, path, body],
  );
}

/** The first admin signs in with the printed one-time password and replaces it; returns the token. */
export async function firstAdmin(server) {
  const admin = await (
    await fetch(server.base + "/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ login: "admin", password: server.adminPassword }),
    })
  ).json();
  await json(server.base, "PUT", "/api/v1/me/password", admin.token, {
    current_password: server.adminPassword,
    new_password: "admin-password-0001",
  });
  return admin;
}

/** Creates users in the first organization with the CLI (each with a one-time password). */
export function createUsers(bin, server, users) {
  for (const u of users) {
    cli(bin, server.dataDir, ["create-user", "--org", "first", "--login", u.login, "--name", u.name, "--kana", u.kana, "--profession", u.profession, "--password-stdin"], u.first + "\n");
  }
}

/** Runs a command line tool (dcmtk, Python) and returns its standard output; throws on failure. */
export function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout;
}

/** Signs `login` in over the API: the login answer (token, user). */
export async function signInApi(base, login, password) {
  const res = await fetch(base + "/api/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login, password }),
  });
  assert(res.ok, `login ${login}: ${res.status}`);
  return res.json();
}


/** A created user's first sign-in over the API: the one-time password `u.first` replaced by
 * `u.password`; their new session's token and id. */
export async function apiUser(base, u) {
  const first = await signInApi(base, u.login, u.first);
  await json(base, "PUT", "/api/v1/me/password", first.token, { current_password: u.first, new_password: u.password });
  const again = await signInApi(base, u.login, u.password);
  return { token: again.token, id: again.user.id };
}

/** Past the notification prompt (あとで) to the conversation list. */
export async function toList(page) {
  const later = page.getByRole("button", { name: "あとで" });
  const list = page.getByRole("heading", { name: "トーク" });
  await later.or(list).first().waitFor();
  if (await later.isVisible()) await later.click();
  await list.waitFor();
}

/** Signs `u` in through the Japanese sign-in page, to the conversation list. */
export async function signInJa(page, base, u) {
  await page.goto(base + "/");
  await page.getByLabel("ユーザーID").fill(u.login);
  await page.getByLabel("パスワード", { exact: true }).fill(u.password);
  await page.getByRole("button", { name: "ログイン" }).click();
  await toList(page);
}


/** Runs a journeys file's `main` (which returns its `Check`): prints the closing count that
 *  test runners read and exits non-zero when a journey failed or `main` threw. */
export function finishJourneys(main) {
  main().then(
    (check) => {
      log(`${check.passed} passed, ${check.failed} failed`);
      process.exit(check.failed ? 1 : 0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
