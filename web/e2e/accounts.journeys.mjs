// Account safety journeys in Chromium, on a phone in Japanese, against a real renkei server:
// wrong passwords at sign-in show the attempts left and then when to try again; the doctor's
// open session goes on meanwhile; the administrator sees who is held in the user list and
// releases them; destructive actions (password reset, retire) ask first; a member's app still
// shows names from the directory view. Screenshots go to web/test-results/ (and SHOTS if set).
//
//   node e2e/accounts.journeys.mjs      (builds the binary with cargo unless RENKEI_BIN is set)

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, finishJourneys } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const ADMIN = { login: "admin", password: "admin-password-0001" };
const DOCTOR = { login: "tanaka", password: "tanaka-passphrase-2026" };
const shots = process.env.SHOTS || results;

async function main() {
  const started = Date.now();
  mkdirSync(shots, { recursive: true });
  const bin = serverBinary();
  // Sign-in slows down after 3 wrong passwords, for a minute at first.
  Object.assign(process.env, { RENKEI_LOGIN_MAX_FAILURES: "3", RENKEI_LOGIN_BACKOFF_SECONDS: "60" });
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  try {
    const { token } = await firstAdmin(server);
    const api = (method, path, body) => json(base, method, path, token, body);
    const org = (await api("GET", "/api/v1/me")).organization;
    const doctor = await api("POST", `/api/v1/orgs/${org.id}/users`, {
      login: DOCTOR.login, display_name: "田中 一郎", kana: "たなか いちろう", profession: "doctor", password: "one-time password",
    });
    const session = await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: DOCTOR.login, password: "one-time password" }) })).json();
    await json(base, "PUT", "/api/v1/me/password", session.token, { current_password: "one-time password", new_password: DOCTOR.password });

    browser = await launchBrowser();
    const errors = [];
    const phone = async () => {
      const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", isMobile: true, hasTouch: true });
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      page.on("pageerror", (e) => errors.push(`page error ${e.message}`));
      page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
      return page;
    };
    const stranger = await phone();
    const admin = await phone();
    globalThis.openPages = [stranger, admin];

    await check.run("accounts 1: wrong passwords show the attempts left, then when to try again; the doctor's session goes on", async () => {
      const alert = stranger.locator(".form-error");
      await signIn(stranger, base, DOCTOR, "wrong guess 1");
      await alert.getByText("あと2回失敗すると").waitFor();
      await stranger.getByLabel("パスワード", { exact: true }).fill("wrong guess 2");
      await stranger.getByRole("button", { name: "ログイン" }).click();
      await alert.getByText("あと1回失敗すると").waitFor();
      await stranger.getByLabel("パスワード", { exact: true }).fill("wrong guess 3");
      await stranger.getByRole("button", { name: "ログイン" }).click();
      await alert.getByText(/60秒後（\d{1,2}:\d{2}）に再度お試しください/).waitFor();
      // During the wait even the right password is not checked; the notice says so again.
      await stranger.getByLabel("パスワード", { exact: true }).fill(DOCTOR.password);
      await stranger.getByRole("button", { name: "ログイン" }).click();
      await alert.getByText(/\d+秒後（\d{1,2}:\d{2}）に再度お試しください。ログイン中の端末はそのまま使えます。/).waitFor();
      await stranger.screenshot({ path: join(shots, "accounts-1-signin-delayed-ja.png") });
      // The doctor's own session was never ended.
      const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${session.token}` } });
      assert(me.status === 200, `the open session still works (${me.status})`);
    });

    await check.run("accounts 2: the administrator sees who is held and releases them (audited)", async () => {
      await signIn(admin, base, ADMIN, ADMIN.password);
      await admin.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await admin.getByRole("button", { name: "あとで" }).click();
      await admin.getByRole("button", { name: "メニュー" }).click();
      await admin.getByRole("menuitem", { name: "管理" }).click();
      await admin.getByRole("button", { name: "ユーザー", exact: true }).click();
      const holds = admin.locator(".admin-holds");
      await holds.getByText("ログインの制限").waitFor();
      await holds.locator('li[data-login="tanaka"]').getByText("パスワード誤り3回").waitFor();
      await admin.locator('.admin-users .badge.hold[data-hold="tanaka"]').getByText("待機中").waitFor();
      await admin.screenshot({ path: join(shots, "accounts-2-holds-ja.png"), fullPage: true });
      await holds.getByRole("button", { name: "解除" }).click();
      await admin.getByText("田中 一郎さんの制限を解除しました。すぐにログインできます。").waitFor();
      await holds.getByText("ロック中・待機中のユーザーはいません。").waitFor();
      const audit = await api("GET", "/api/v1/audit?action=user.sign_in_released");
      assert(audit.length === 1 && audit[0].target_id === doctor.id, "the release is audited");
      // The doctor signs in at once.
      await stranger.getByLabel("パスワード", { exact: true }).fill(DOCTOR.password);
      await stranger.getByRole("button", { name: "ログイン" }).click();
      await stranger.getByRole("heading", { name: "パスコードの設定" }).waitFor();
    });

    await check.run("accounts 3: password reset and retiring ask first; cancelling changes nothing", async () => {
      await admin.getByRole("button", { name: "田中 一郎" }).click();
      await admin.getByRole("heading", { name: "田中 一郎" }).waitFor();
      await admin.getByRole("button", { name: "パスワードを再発行" }).click();
      const dialog = admin.getByRole("alertdialog");
      await dialog.getByText("田中 一郎さんのパスワードをリセットしますか？").waitFor();
      await admin.screenshot({ path: join(shots, "accounts-3-confirm-reset-ja.png") });
      await dialog.getByRole("button", { name: "キャンセル" }).click();
      assert((await admin.getByRole("alertdialog").count()) === 0, "the question is gone");
      assert((await admin.locator(".admin-secret").count()) === 0, "no password was reset");
      const still = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${session.token}` } });
      assert(still.status === 200, "cancelling ended no session");
      await admin.getByRole("button", { name: "パスワードを再発行" }).click();
      await admin.getByRole("button", { name: "実行する" }).click();
      await admin.locator(".admin-secret").waitFor();
      const ended = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${session.token}` } });
      assert(ended.status === 401, "the reset ended the doctor's session");
      // Retiring asks too.
      await admin.locator('select[name="status"]').selectOption("retired");
      await admin.getByRole("button", { name: "保存", exact: true }).click();
      await admin.getByRole("alertdialog").getByText("田中 一郎さんを退職にしますか？").waitFor();
      await admin.screenshot({ path: join(shots, "accounts-3-confirm-retire-ja.png") });
      await admin.getByRole("button", { name: "実行する" }).click();
      await admin.getByText(/保存しました/).waitFor();
      assert((await api("GET", `/api/v1/users/${doctor.id}`)).status === "retired", "retired after the yes");
    });

    await check.run("accounts 4: a member's app shows colleagues' names from the directory view", async () => {
      const member = await api("POST", `/api/v1/orgs/${org.id}/users`, {
        login: "sato", display_name: "佐藤 花子", kana: "さとう はなこ", profession: "nurse", password: "one-time password",
      });
      const s = await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: "sato", password: "one-time password" }) })).json();
      await json(base, "PUT", "/api/v1/me/password", s.token, { current_password: "one-time password", new_password: "sato-passphrase-2026" });
      const list = await json(base, "GET", `/api/v1/orgs/${org.id}/users`, (await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: "sato", password: "sato-passphrase-2026" }) })).json()).token);
      assert(list.every((u) => u.roles === undefined && u.login === undefined), "members get no roles or logins");
      assert(!list.some((u) => u.id === doctor.id), "a retired user is not in the directory");
      const page = await phone();
      globalThis.openPages.push(page);
      await signIn(page, base, { login: "sato" }, "sato-passphrase-2026");
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.screenshot({ path: join(shots, "accounts-4-member-home-ja.png") });
      assert(member.id, "member created");
    });

    await check.run("no Content-Security-Policy violations or page errors", async () => {
      assert(errors.length === 0, errors.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  log(`screenshots in ${shots}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return check;
}

finishJourneys(main);
