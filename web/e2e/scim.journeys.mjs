// Provisioning (SCIM 2.0) on a phone in Japanese (390×844, ja-JP), in Chromium against a real
// server: an administrator creates the SCIM token in the console (shown once, with the tenant
// URL), an identity provider provisions a user with it, the console shows when the token was
// last used and the new user, and a revoked token stops provisioning at once. Screenshots go
// to web/test-results/ (and SHOTS_DIR if set).
//
//   node e2e/scim.journeys.mjs      (builds the binary with cargo unless RENKEI_BIN is set)

import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, finishJourneys } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const ADMIN = { login: "admin", password: "admin-password-0001" };
const shotsDir = process.env.SHOTS_DIR;
if (shotsDir) mkdirSync(shotsDir, { recursive: true });

/** One SCIM request as an identity provider sends it. */
async function scim(url, token, method, body) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text ? JSON.parse(text) : null };
}

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  try {
    const { token: session } = await firstAdmin(server);
    const api = (method, path, body) => json(base, method, path, session, body);
    const org = (await api("GET", "/api/v1/me")).organization;

    browser = await launchBrowser();
    const errors = [];
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", deviceScaleFactor: 1, hasTouch: true, isMobile: true });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(`page error ${e.message}`));
    globalThis.openPages = [page];
    const shot = async (name) => {
      await page.screenshot({ path: join(results, `scim-${name}.png`), fullPage: true });
      if (shotsDir) await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
    };
    const tab = (name) => page.locator(".admin-tabs").getByRole("button", { name, exact: true }).click();
    let tenantUrl;
    let token;

    await check.run("scim journey 1: the console creates a SCIM token, shown once with the tenant URL", async () => {
      await signIn(page, base, ADMIN, ADMIN.password);
      await page.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).click();
      await tab("ID連携 (SCIM)");
      await page.getByText("トークンがありません。プロビジョニングは無効です。").waitFor();
      tenantUrl = await page.getByLabel("テナント URL").innerText();
      assert(tenantUrl === `${base}/scim/v2/${org.id}`, `tenant URL ${tenantUrl}`);
      await shot("1-no-token");
      await page.getByRole("button", { name: "トークンを作成" }).click();
      token = await page.getByLabel("シークレット トークン").innerText();
      assert(token.startsWith("rks_"), "a SCIM token is shown");
      await page.getByText(/このトークンは今だけ表示されます/).waitFor();
      await page.getByText("まだ利用されていません。").waitFor();
      await shot("2-token-shown");
    });

    await check.run("scim journey 2: an identity provider provisions a user with the token; the console shows its last use", async () => {
      const found = await scim(`${tenantUrl}/Users?filter=${encodeURIComponent('userName eq "yamada.kenji@hospital.example"')}`, token, "GET");
      assert(found.status === 200 && found.body.totalResults === 0, `lookup ${found.status}`);
      const made = await scim(`${tenantUrl}/Users`, token, "POST", {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        externalId: "7c1f4a2e",
        userName: "yamada.kenji@hospital.example",
        active: true,
        name: { familyName: "山田", givenName: "健二" },
        emails: [{ primary: true, type: "work", value: "yamada.kenji@hospital.example" }],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { department: "整形外科" },
        "urn:ietf:params:scim:schemas:extension:renkei:2.0:User": { kana: "やまだ けんじ", profession: "doctor" },
      });
      assert(made.status === 201, `create ${made.status} ${JSON.stringify(made.body)}`);
      assert(made.type === "application/scim+json", `content type ${made.type}`);
      // Reopen the page: the token is not shown again, its last use is.
      await tab("ユーザー");
      await page.getByText("山田 健二").first().waitFor();
      await shot("3-provisioned-user");
      await tab("ID連携 (SCIM)");
      await page.getByText(/最終利用: /).waitFor();
      assert((await page.getByLabel("シークレット トークン").count()) === 0, "the token is shown only once");
      await shot("4-last-used");
    });

    await check.run("scim journey 3: a revoked token stops provisioning at once", async () => {
      await page.getByRole("button", { name: "トークンを無効にする" }).click();
      await page.getByRole("button", { name: "無効にする(プロビジョニングは直ちに止まります)" }).click();
      await page.getByText("トークンを無効にしました。プロビジョニングは停止しています。").waitFor();
      await shot("5-revoked");
      const refused = await scim(`${tenantUrl}/Users`, token, "GET");
      assert(refused.status === 401, `after revoking: ${refused.status}`);
      assert(refused.body.schemas[0] === "urn:ietf:params:scim:api:messages:2.0:Error", "SCIM's error format");
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
