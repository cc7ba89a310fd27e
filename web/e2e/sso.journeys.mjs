// Single sign-on in Chromium, on a phone in Japanese (390×844, ja-JP), against a real renkei
// server and a real OpenID provider (the npm package oidc-provider, OpenID Certified, started
// here on loopback from crates/renkei/tests/oidc/provider.mjs): the administrator sets up the
// identity provider in the console; the sign-in page shows 「病院のアカウントでサインイン」, which
// leads to the provider's login form and back, signed in to the existing account (linked by the
// verified e-mail; the provider's mfa counts as the second factor). Screenshots go to
// web/test-results/sso-*.png.
//
//   node e2e/sso.journeys.mjs   (builds the binary with cargo unless RENKEI_BIN is set;
//                                needs `npm ci` in crates/renkei/tests/oidc)

import { spawn } from "node:child_process";
import { join } from "node:path";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, pageJson, repo, finishJourneys } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const ADMIN = { login: "admin", password: "admin-password-0001" };
const SECRET = "renkei-e2e-client-secret";

/** Starts oidc-provider for `server` on a free loopback port; resolves to { child, issuer }. */
function startProvider(server, org) {
  const child = spawn("node", ["provider.mjs"], {
    cwd: join(repo, "crates/renkei/tests/oidc"),
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      ...process.env,
      OIDC_PORT: "0",
      OIDC_CLIENT_SECRET: SECRET,
      OIDC_REDIRECT_URI: `${server.base}/api/v1/auth/sso/callback`,
      OIDC_LOGOUT_URI: `${server.base}/api/v1/auth/sso/${org}/backchannel-logout`,
    },
  });
  return new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`oidc-provider did not start: ${out}`)), 20_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/oidc-provider listening on (\S+)/);
      if (m) {
        clearTimeout(timer);
        ok({ child, issuer: m[1] });
      }
    });
    child.on("exit", (code) => fail(new Error(`oidc-provider exited (${code}): ${out}`)));
  });
}

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  let provider;
  try {
    const { token } = await firstAdmin(server);
    const api = (method, path, body) => json(base, method, path, token, body);
    const org = (await api("GET", "/api/v1/me")).organization;
    const suzuki = await api("POST", `/api/v1/orgs/${org.id}/users`, {
      login: "suzuki", display_name: "鈴木 一郎", kana: "すずき いちろう", profession: "doctor",
      email: "suzuki@hospital.test", password: "one-time password", second_factor_required: true,
    });
    provider = await startProvider(server, org.id);

    browser = await launchBrowser();
    const errors = [];
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", deviceScaleFactor: 1, hasTouch: true, isMobile: true });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(`page error ${e.message}`));
    globalThis.openPages = [page];
    const shot = (name) => page.screenshot({ path: join(results, `sso-${name}.png`) });

    await check.run("sso journey 1: the administrator sets up the hospital's identity provider in the console", async () => {
      await signIn(page, base, ADMIN, ADMIN.password);
      await page.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).click();
      await page.getByRole("heading", { name: "管理コンソール" }).waitFor();
      await page.locator(".admin-tabs").getByRole("button", { name: "シングルサインオン", exact: true }).click();
      await page.getByText("未設定：全員が renkei のパスワードでサインインします。").waitFor();
      await page.getByLabel("発行者（Issuer）").fill(provider.issuer);
      await page.getByLabel("クライアント ID").fill("renkei");
      await page.getByLabel("クライアントシークレット").fill(SECRET);
      await page.getByLabel("ふりがなのクレーム").fill("kana");
      await page.getByLabel("部署のクレーム").fill("department");
      await page.getByRole("button", { name: "保存" }).click();
      await page.getByText("保存済み（暗号化）。変更しない場合は空欄のまま。").waitFor();
      await shot("1-console");
      const saved = await pageJson(page, "GET", `/api/v1/orgs/${org.id}/sso`);
      assert(saved.settings.issuer === provider.issuer && saved.client_secret_set, JSON.stringify(saved));
      assert(!JSON.stringify(saved).includes(SECRET), "the secret is never sent back");
    });

    await check.run("sso journey 2: 「病院のアカウントでサインイン」 goes to the provider's login form and back, signed in", async () => {
      const person = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", deviceScaleFactor: 1, hasTouch: true, isMobile: true });
      person.setDefaultTimeout(15_000);
      const p = await person.newPage();
      p.on("pageerror", (e) => errors.push(`page error ${e.message}`));
      globalThis.openPages = [page, p];
      await p.goto(base + "/");
      const button = p.getByRole("link", { name: "病院のアカウントでサインイン" });
      await button.waitFor();
      await p.screenshot({ path: join(results, "sso-2-sign-in.png") });
      await button.click();
      await p.waitForURL((url) => url.href.startsWith(provider.issuer));
      await p.locator('input[name="login"]').fill("suzuki");
      await p.locator('input[name="password"]').fill("hospital password");
      await p.screenshot({ path: join(results, "sso-3-provider.png") });
      await p.locator('button[type="submit"]').click();
      await p.waitForURL((url) => url.href.startsWith(base));
      // No code asked (the provider's mfa counts), no one-time password to replace.
      await p.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await p.getByRole("button", { name: "あとで" }).click();
      await p.getByRole("heading", { name: "トーク" }).waitFor();
      await p.screenshot({ path: join(results, "sso-4-signed-in.png") });
      const me = await pageJson(p, "GET", "/api/v1/me");
      assert(me.user.id === suzuki.id, `the existing account: ${JSON.stringify(me.user)}`);
      await person.close();
    });

    await check.run("sso journey 3: a refusal comes back to the sign-in page in Japanese", async () => {
      const person = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", deviceScaleFactor: 1, hasTouch: true, isMobile: true });
      person.setDefaultTimeout(15_000);
      const p = await person.newPage();
      globalThis.openPages = [page, p];
      await p.goto(base + "/");
      await p.getByRole("link", { name: "病院のアカウントでサインイン" }).click();
      await p.waitForURL((url) => url.href.startsWith(provider.issuer));
      await p.locator('input[name="login"]').fill("unverified");
      await p.locator('input[name="password"]').fill("hospital password");
      await p.locator('button[type="submit"]').click();
      await p.getByText("利用申請を送りました。管理者の承認後にサインインできます。").waitFor();
      assert(!p.url().includes("sso_error"), "the code is taken out of the address bar");
      await p.screenshot({ path: join(results, "sso-5-application-sent.png") });
      await person.close();
    });

    assert(errors.length === 0, errors.join("\n"));
  } finally {
    await browser?.close();
    provider?.child.kill();
    await stopServer(server);
    log(`sso journeys in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return check;
}

finishJourneys(main);
