// Passkeys in Chromium against a real renkei server, with the DevTools virtual authenticator
// (CTAP2, internal transport, resident keys, user verification): a user adds a passkey in the
// settings, signs out, signs in with the passkey (no password), meets the second step after
// the password with it, removes it, and is refused when signing in with it again. Japanese,
// on a phone's screen.
//
//   node e2e/passkey.journeys.mjs   (builds the binary with cargo unless RENKEI_BIN is set)

import { join } from "node:path";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, finishJourneys } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const USER = { login: "yamada", first: "one-time password", password: "yamada-password-2026" };

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  // Passkeys are bound to the public URL's host: the page is opened at localhost.
  const server = await startServer(bin, [], { RENKEI_PUBLIC_URL: "http://localhost" });
  const base = server.base.replace("127.0.0.1", "localhost");
  const check = new Check();
  let browser;
  try {
    const { token } = await firstAdmin(server);
    const api = (method, path, body) => json(server.base, method, path, token, body);
    const org = (await api("GET", "/api/v1/me")).organization;
    await api("POST", `/api/v1/orgs/${org.id}/users`, {
      login: USER.login, display_name: "山田 花子", kana: "やまだ はなこ", profession: "nurse", password: USER.first,
    });
    const first = await (await fetch(server.base + "/api/v1/auth/login", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: USER.login, password: USER.first }),
    })).json();
    await json(server.base, "PUT", "/api/v1/me/password", first.token, { current_password: USER.first, new_password: USER.password });

    browser = await launchBrowser();
    const errors = [];
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo" });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => errors.push(`page error ${e.message}`));
    page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    globalThis.openPages = [page];
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const credentials = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;

    const home = async () => {
      await page.getByRole("heading", { name: /パスコードの設定|トーク/ }).first().waitFor();
      if (await page.getByRole("button", { name: "あとで" }).isVisible()) await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
    };
    const menu = async (item) => {
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: item }).click();
    };
    const signOut = async () => {
      await menu("ログアウト");
      await page.getByRole("heading", { name: "ログイン" }).waitFor();
    };

    await check.run("passkey 1: a signed-in user adds a named passkey in the settings", async () => {
      await signIn(page, base, USER, USER.password);
      await home();
      await menu("パスキー");
      await page.getByRole("heading", { name: "パスキー", exact: true }).waitFor();
      await page.getByText("パスキーはまだ登録されていません。").waitFor();
      await page.getByLabel("新しいパスキーの名前").fill("iPhone");
      await page.getByRole("button", { name: "パスキーを追加" }).click();
      await page.getByText("パスキー「iPhone」を追加しました。").waitFor();
      await page.getByRole("button", { name: "パスキー「iPhone」を削除" }).waitFor();
      const held = await credentials();
      assert(held.length === 1 && held[0].isResidentCredential, `one resident credential: ${JSON.stringify(held)}`);
      await page.screenshot({ path: join(results, "passkey-1-settings.png"), fullPage: true });
      await page.getByRole("button", { name: "閉じる" }).click();
    });

    await check.run("passkey 2: signed out, the user signs in with the passkey alone", async () => {
      await signOut();
      await page.getByRole("button", { name: "パスキーでサインイン" }).waitFor();
      await page.screenshot({ path: join(results, "passkey-2-sign-in.png"), fullPage: true });
      await page.getByRole("button", { name: "パスキーでサインイン" }).click();
      await home();
      const me = await page.evaluate(async () => (await fetch("/api/v1/me")).json());
      assert(me.user.login === USER.login, JSON.stringify(me.user));
    });

    await check.run("passkey 3: after the password, the second step offers the passkey", async () => {
      await signOut();
      await signIn(page, base, USER, USER.password);
      await page.getByRole("heading", { name: "2段階認証" }).waitFor();
      await page.getByRole("button", { name: "パスキーを使う" }).waitFor();
      await page.screenshot({ path: join(results, "passkey-3-second-step.png"), fullPage: true });
      await page.getByRole("button", { name: "パスキーを使う" }).click();
      await home();
    });

    await check.run("passkey 4: removed, the passkey signs in no more", async () => {
      await menu("パスキー");
      await page.getByRole("button", { name: "パスキー「iPhone」を削除" }).click();
      await page.getByText("パスキー「iPhone」を削除しました。").waitFor();
      await page.getByText("パスキーはまだ登録されていません。").waitFor();
      await page.getByRole("button", { name: "閉じる" }).click();
      await signOut();
      assert((await credentials()).length === 1, "the authenticator still holds the credential");
      await page.getByRole("button", { name: "パスキーでサインイン" }).click();
      await page.getByText("このパスキーは使用できません。削除された可能性があります。").waitFor();
      await page.getByRole("heading", { name: "ログイン" }).waitFor();
      await page.screenshot({ path: join(results, "passkey-4-refused.png"), fullPage: true });
      const failed = await api("GET", "/api/v1/audit?action=auth.passkey_failed");
      assert(failed.length === 1 && failed[0].details.reason === "unknown_passkey", JSON.stringify(failed));
      const removed = await api("GET", "/api/v1/audit?action=auth.passkey_removed");
      assert(removed.length === 1, JSON.stringify(removed));
    });

    await check.run("no Content-Security-Policy violations or page errors", async () => {
      assert(errors.length === 0, errors.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  log(`screenshots in ${results}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return check;
}

finishJourneys(main);
