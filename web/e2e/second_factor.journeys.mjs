// The second factor in Chromium against a real renkei server: a user whose administrator
// requires a second factor signs in, sets up an authenticator app (the code is computed here
// from the key on the screen, like an app would), keeps the recovery codes, signs out, signs in
// again with a code (a wrong one refused first), then with a recovery code; an administrator
// resets the second factor in the console and the user's session ends.
//
//   node e2e/second_factor.journeys.mjs   (builds the binary with cargo unless RENKEI_BIN is set)

import { createHmac } from "node:crypto";
import { join } from "node:path";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, replaceOneTimePassword, finishJourneys } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
const ADMIN = { login: "admin", password: "admin-password-0001" };
const USER = { login: "tanaka", first: "one-time password", password: "tanaka-password-2026" };

/** RFC 4648 base32 (spaces ignored) to bytes. */
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP: HMAC-SHA-1, 6 digits, 30-second steps. */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hash = createHmac("sha1", secret).update(counter).digest();
  const offset = hash[hash.length - 1] & 0x0f;
  const binary = hash.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/** An authenticator app: each step's code is given out once (the server refuses replays). */
class App {
  constructor(key) {
    this.secret = base32(key);
    this.last = -Infinity;
  }
  async next() {
    for (;;) {
      const t = Date.now() / 1000;
      const now = Math.floor(t / 30);
      // Away from the end of a step, so the server sees the same current step.
      const wait = (now + 1) * 30 - t + 0.2;
      const step = Math.max(now - 1, this.last + 1);
      if (t - now * 30 > 27 || step > now + 1) {
        await new Promise((ok) => setTimeout(ok, wait * 1000));
        continue;
      }
      this.last = step;
      return totp(this.secret, step);
    }
  }
  wrong() {
    const now = Math.floor(Date.now() / 30_000);
    const valid = [-2, -1, 0, 1, 2].map((d) => totp(this.secret, now + d));
    for (let n = 111111; ; n++) if (!valid.includes(String(n))) return String(n);
  }
}

async function main() {
  const started = Date.now();
  // RFC 6238 Appendix B (SHA-1, last six of eight digits): the code below is an honest oracle.
  const rfc = Buffer.from("12345678901234567890");
  assert(totp(rfc, Math.floor(59 / 30)) === "287082", "RFC 6238 vector T=59");
  assert(totp(rfc, Math.floor(1111111109 / 30)) === "081804", "RFC 6238 vector T=1111111109");
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  try {
    const { token } = await firstAdmin(server);
    const api = (method, path, body) => json(base, method, path, token, body);
    const org = (await api("GET", "/api/v1/me")).organization;
    const user = await api("POST", `/api/v1/orgs/${org.id}/users`, {
      login: USER.login, display_name: "田中 一郎", kana: "たなか いちろう", profession: "doctor",
      password: USER.first, second_factor_required: true,
    });

    browser = await launchBrowser();
    const errors = [];
    const ctx = await browser.newContext({ viewport: PHONE, locale: "en-US", timezoneId: "Asia/Tokyo" });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => errors.push(`page error ${e.message}`));
    page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    globalThis.openPages = [page];
    let app;
    let recovery = [];

    const signOut = async () => {
      await page.getByRole("button", { name: "Menu" }).click();
      await page.getByRole("menuitem", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
    };

    await check.run("second factor 1: a required user sets up an authenticator app at first sign-in and keeps the recovery codes", async () => {
      await signIn(page, base, USER, USER.first);
      await page.getByRole("heading", { name: "Set up two-step sign-in" }).waitFor();
      await page.getByRole("img", { name: "QR code to scan with the authenticator app" }).waitFor();
      const key = (await page.getByLabel("Key for the authenticator app").textContent()).trim();
      assert(/^([A-Z2-7]{4} )+[A-Z2-7]{4}$/.test(key), `the key is shown in groups of four: ${key}`);
      const uri = await page.getByLabel("Set-up link (otpauth)").inputValue();
      assert(uri.startsWith(`otpauth://totp/renkei:${USER.login}?secret=${key.replace(/ /g, "")}&issuer=renkei`), uri);
      assert((await page.getByRole("link", { name: "Open in the authenticator app" }).getAttribute("href")) === uri, "the link opens the app");
      await page.screenshot({ path: join(results, "second-factor-1-enroll.png"), fullPage: true });
      app = new App(key);
      await page.getByLabel("2. Enter the 6-digit code the app now shows").fill(app.wrong());
      await page.getByRole("button", { name: "Confirm" }).click();
      await page.getByText("This code is incorrect.").waitFor();
      await page.getByLabel("2. Enter the 6-digit code the app now shows").fill(await app.next());
      await page.getByRole("button", { name: "Confirm" }).click();
      await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
      recovery = (await page.locator(".recovery-codes code").allTextContents()).map((c) => c.trim());
      assert(recovery.length === 10 && recovery.every((c) => /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/.test(c)), `ten recovery codes: ${recovery}`);
      await page.screenshot({ path: join(results, "second-factor-1-recovery-codes.png"), fullPage: true });
      const next = page.getByRole("button", { name: "Continue" });
      assert(await next.isDisabled(), "continue waits until the codes are saved");
      await page.getByLabel("I have saved these codes").check();
      await next.click();
      await replaceOneTimePassword(page, USER);
      await page.getByRole("heading", { name: "Set a passcode" }).waitFor();
      await page.getByRole("button", { name: "Not now" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      const record = await api("GET", `/api/v1/users/${user.id}`);
      assert(record.second_factor_enrolled === true && !JSON.stringify(record).includes(key.replace(/ /g, "")), "enrolled, no secret in the record");
    });

    await check.run("second factor 2: signing in again asks for a code; a wrong one is refused, a fresh one lets in, and a reload stays in", async () => {
      await signOut();
      await signIn(page, base, USER, USER.password);
      await page.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
      await page.getByLabel("Code from the app").fill(app.wrong());
      await page.getByRole("button", { name: "Verify" }).click();
      await page.getByText("This code is incorrect.").waitFor();
      // A reload in the middle keeps asking for the code (the session owes it).
      await page.reload();
      await page.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
      await page.screenshot({ path: join(results, "second-factor-2-code.png") });
      await page.getByLabel("Code from the app").fill(await app.next());
      await page.getByRole("button", { name: "Verify" }).click();
      await page.getByRole("heading", { name: "Set a passcode" }).waitFor();
      await page.getByRole("button", { name: "Not now" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      await page.reload();
      await page.getByRole("heading", { name: /Conversations|Set a passcode/ }).waitFor();
    });

    await check.run("second factor 3: a recovery code lets in once", async () => {
      if (await page.getByRole("button", { name: "Not now" }).isVisible()) await page.getByRole("button", { name: "Not now" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      await signOut();
      await signIn(page, base, USER, USER.password);
      await page.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
      await page.getByRole("button", { name: "Use a recovery code instead" }).click();
      await page.getByLabel("Recovery code").fill(recovery[0]);
      await page.getByRole("button", { name: "Verify" }).click();
      await page.getByRole("heading", { name: "Set a passcode" }).waitFor();
      await page.getByRole("button", { name: "Not now" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      const state = await page.evaluate(async () => (await fetch("/api/v1/auth/second-factor")).json());
      assert(state.recovery_codes_left === 9 && state.passed === true, JSON.stringify(state));
    });

    await check.run("second factor 4: the administrator resets it in the console; the user's session ends at once", async () => {
      const adminCtx = await browser.newContext({ viewport: DESKTOP, locale: "en-US", timezoneId: "Asia/Tokyo" });
      adminCtx.setDefaultTimeout(15_000);
      const admin = await adminCtx.newPage();
      admin.on("pageerror", (e) => errors.push(`page error ${e.message}`));
      globalThis.openPages = [page, admin];
      await signIn(admin, base, ADMIN, ADMIN.password);
      await admin.getByRole("heading", { name: "Set a passcode" }).waitFor();
      await admin.getByRole("button", { name: "Not now" }).click();
      await admin.getByRole("button", { name: "Menu" }).click();
      await admin.getByRole("menuitem", { name: "Administration" }).click();
      await admin.getByRole("heading", { name: "Administration" }).waitFor();
      await admin.getByRole("button", { name: "Users", exact: true }).click();
      await admin.getByRole("button", { name: "田中 一郎" }).click();
      await admin.getByRole("heading", { name: "田中 一郎" }).waitFor();
      await admin.getByText("Authenticator app set up: Yes").waitFor();
      await admin.getByRole("button", { name: "Reset second factor" }).click();
      // A destructive action asks first.
      await admin.getByRole("alertdialog").getByText(/Reset the two-step sign-in of 田中 一郎\?/).waitFor();
      await admin.getByRole("button", { name: "Yes, do it" }).click();
      await admin.getByText("Second factor cleared; their sessions ended.").waitFor();
      await admin.getByText("Authenticator app set up: No").waitFor();
      assert(await admin.getByRole("button", { name: "Reset second factor" }).isDisabled(), "nothing left to reset");
      await admin.screenshot({ path: join(results, "second-factor-4-admin-reset.png"), fullPage: true });
      // The user's open app notices (its socket is closed) and shows the sign-in form.
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      // Signing in again asks for a new set-up (the administrator still requires one).
      await signIn(page, base, USER, USER.password);
      await page.getByRole("heading", { name: "Set up two-step sign-in" }).waitFor();
      const audit = await api("GET", "/api/v1/audit?action=user.second_factor_reset");
      assert(audit.length === 1 && audit[0].target_id === user.id, JSON.stringify(audit));
      await adminCtx.close();
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
