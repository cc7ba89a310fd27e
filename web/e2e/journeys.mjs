// End-to-end journeys: a real renkei server (temp data dir, free port), users made with the
// CLI, and Debian's Chromium driven by playwright-core in separate browser contexts.
//
//   node e2e/journeys.mjs            (builds the binary with cargo unless RENKEI_BIN is set)
//
// Environment: see harness.mjs; E2E_ONLY=1,3 (run some journeys).
// Screenshots of each journey's last screen go to web/test-results/.

import { join } from "node:path";
import { serverBinary, firstAdmin, createUsers, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, replaceOneTimePassword, finishJourneys } from "./harness.mjs";

const PHONE = { width: 360, height: 640 };
const DESKTOP = { width: 1280, height: 800 };
const A = { login: "sato", name: "佐藤 花子", kana: "さとう はなこ", profession: "nurse", first: "Onetime-A-123", password: "A-strong-password-1", passcode: "246810" };
const B = { login: "tanaka", name: "田中 一郎", kana: "たなか いちろう", profession: "doctor", first: "Onetime-B-123", password: "B-strong-password-1" };
const C = { login: "suzuki", name: "鈴木 健太", kana: "すずき けんた", profession: "radiology_technologist", first: "Onetime-C-123" };
const GROUP = "Ward 5 East — night shift";
const FIRST_MESSAGE = "Bed 12: potassium 5.9 mmol/L, please review before 22:00.";

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  log(`server at ${base}, data in ${server.dataDir}`);
  const only = (process.env.E2E_ONLY || "").split(",").filter(Boolean);
  const want = (n) => only.length === 0 || only.includes(String(n));
  const check = new Check();
  let browser;
  try {
    // The first admin replaces the printed one-time password, then users come from the CLI.
    const admin = await firstAdmin(server);
    createUsers(bin, server, [A, B, C]);
    const org = (await json(base, "GET", "/api/v1/me", admin.token)).organization;

    // The server side of the client: headers and fallback.
    await check.run("the client is served with a strict CSP and SPA fallback", async () => {
      for (const path of ["/", "/c/some-conversation"]) {
        const res = await fetch(base + path);
        assert(res.status === 200, `${path} status ${res.status}`);
        const csp = res.headers.get("content-security-policy") || "";
        assert(csp.includes("script-src 'self'") && csp.includes("frame-ancestors 'none'"), `CSP: ${csp}`);
        assert(res.headers.get("referrer-policy") === "no-referrer", "referrer policy");
        assert(res.headers.get("cache-control") === "no-store", "index is no-store");
        const html = await res.text();
        assert(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/.test(html), "module script");
        assert(!/<script>|<script type="module">[^<]/.test(html), "no inline script");
      }
      const api404 = await fetch(base + "/api/v1/nope");
      assert(api404.status === 404 && (api404.headers.get("content-type") || "").includes("json"), "API 404 stays JSON");
      const script = (await (await fetch(base + "/")).text()).match(/src="(\/assets\/[^"]+\.js)"/)[1];
      const asset = await fetch(base + script, { headers: { "accept-encoding": "gzip" } });
      assert(asset.ok && (asset.headers.get("cache-control") || "").includes("immutable"), "hashed assets cached");
      assert((asset.headers.get("content-security-policy") || "").includes("default-src 'self'"), "CSP on assets");
      const manifest = await fetch(base + "/manifest.webmanifest");
      assert(manifest.ok && (await manifest.json()).icons.length >= 2, "manifest");
    });

    browser = await launchBrowser();
    const cspErrors = [];
    const watch = (page, who) => {
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) cspErrors.push(`${who}: ${m.text()}`);
      });
      page.on("pageerror", (e) => cspErrors.push(`${who}: page error ${e.message}`));
    };

    const ctxA = await browser.newContext({ viewport: PHONE, locale: "en-US", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true });
    const ctxB = await browser.newContext({ viewport: DESKTOP, locale: "en-US", timezoneId: "Asia/Tokyo" });
    for (const ctx of [ctxA, ctxB]) ctx.setDefaultTimeout(15_000);
    const pageA = await ctxA.newPage();
    const pageB = await ctxB.newPage();
    watch(pageA, "A");
    watch(pageB, "B");
    globalThis.openPages = [pageA, pageB];

    if (want(1)) await check.run("journey 1: A signs in, sets a passcode, starts a group, B reads live, A sees read by 1", async () => {
      // B signs in first (one-time password replaced, passcode skipped) and waits on the list.
      await signIn(pageB, base, B, B.first);
      await replaceOneTimePassword(pageB, B);
      await pageB.getByRole("heading", { name: "Set a passcode" }).waitFor();
      await pageB.getByRole("button", { name: "Not now" }).click();
      await pageB.getByRole("heading", { name: "Conversations" }).waitFor();

      // A: one-time password → own password → passcode → conversation list.
      await signIn(pageA, base, A, A.first);
      await replaceOneTimePassword(pageA, A);
      await pageA.getByRole("heading", { name: "Set a passcode" }).waitFor();
      await pageA.getByLabel("Passcode (4–12 digits)").fill(A.passcode);
      await pageA.getByLabel("Passcode again").fill(A.passcode);
      await pageA.getByRole("button", { name: "Set passcode" }).click();
      await pageA.getByText("No conversations yet.").waitFor();

      // A starts a group with B and C, found by kana and by romaji.
      await pageA.getByRole("button", { name: "New conversation" }).click();
      const search = pageA.getByRole("searchbox", { name: /Search people/ });
      await search.fill("たなか");
      await pageA.getByText(B.name).click();
      await search.fill("suzu");
      await pageA.getByText(C.name).click();
      await pageA.getByText("2 selected").waitFor();
      await pageA.getByLabel("Group name").fill(GROUP);
      await pageA.getByRole("button", { name: "Create group" }).click();
      await pageA.getByRole("heading", { name: GROUP }).waitFor();

      // A sends; the message is acknowledged and shown once.
      await pageA.getByRole("textbox", { name: "Write a message" }).fill(FIRST_MESSAGE);
      await pageA.getByRole("button", { name: "Send" }).click();
      await pageA.locator(".msg.mine:not(.pending)").getByText(FIRST_MESSAGE).waitFor();
      await pageA.getByText("Not read yet").waitFor();

      // B sees the group appear live with an unread badge, opens it, reads it.
      const row = pageB.getByRole("button", { name: new RegExp(GROUP) });
      await row.waitFor();
      await row.getByText("1", { exact: true }).waitFor();
      await row.getByText(FIRST_MESSAGE).waitFor();
      await row.click();
      await pageB.locator(".msg.theirs").getByText(FIRST_MESSAGE).waitFor();
      await pageB.locator(".msg-sender", { hasText: A.name }).waitFor();

      // A sees the read receipt live, and who read it on tap.
      await pageA.getByRole("button", { name: "Read by 1 of 2" }).waitFor();
      await pageA.getByRole("button", { name: "Read by 1 of 2" }).click();
      const dialog = pageA.getByRole("dialog", { name: "Delivery" });
      await dialog.getByText(B.name).waitFor();
      await dialog.locator(".reader-state.read").waitFor();
      await dialog.getByRole("button", { name: "Close" }).click();

      // B is typing: A sees it.
      await pageB.getByRole("textbox", { name: "Write a message" }).pressSequentially("On my way", { delay: 20 });
      await pageA.getByText(`${B.name} is typing…`).waitFor();
      await pageB.getByRole("textbox", { name: "Write a message" }).press("Enter");
      await pageA.locator(".msg.theirs").getByText("On my way").waitFor();
      await pageA.waitForTimeout(300);
      await pageA.screenshot({ path: join(results, "journey1-phone-read-by.png") });
      await pageB.screenshot({ path: join(results, "journey1-desktop.png") });
    });

    if (want(4)) await check.run("journey 4: offline banner, a failed send stays visible, goes again by itself after reconnecting, stored once", async () => {
      if (!want(1)) throw new Error("needs journey 1");
      await ctxB.setOffline(true);
      await pageB.getByText("Offline. Reconnecting…").waitFor();
      const text = "Retry me: ECG done, results in chart.";
      await pageB.getByRole("textbox", { name: "Write a message" }).fill(text);
      await pageB.getByRole("button", { name: "Send" }).click();
      await pageB.getByText("Not sent.").waitFor();
      await pageB.screenshot({ path: join(results, "journey4-offline-failed.png") });
      await ctxB.setOffline(false);
      await pageB.getByText("Offline. Reconnecting…").waitFor({ state: "detached", timeout: 20_000 });
      // No tap on Retry: the same client_msg_id goes again once the socket is back.
      await pageB.locator(".msg.mine:not(.pending)").getByText(text).waitFor();
      await pageA.locator(".msg.theirs").getByText(text).waitFor();
      // Retrying again with the same client_msg_id cannot duplicate: count on the server.
      const convs = await pageB.evaluate(async () => (await fetch("/api/v1/conversations")).json());
      const group = convs.find((c) => c.title === GROUP);
      const history = await pageB.evaluate(async (id) => (await fetch(`/api/v1/conversations/${id}/messages`)).json(), group.id);
      assert(history.filter((m) => m.body === text).length === 1, "stored exactly once");
      await pageB.screenshot({ path: join(results, "journey4-after-retry.png") });
    });

    if (want(5)) await check.run("journey 5: history scrolls back page by page without duplicates", async () => {
      if (!want(1)) throw new Error("needs journey 1");
      // B posts 120 messages over the REST API with the cookie session and its CSRF token.
      await pageB.evaluate(async (title) => {
        const csrf = decodeURIComponent(document.cookie.match(/renkei_csrf=([^;]+)/)[1]);
        const convs = await (await fetch("/api/v1/conversations")).json();
        const id = convs.find((c) => c.title === title).id;
        for (let i = 1; i <= 120; i++) {
          const res = await fetch(`/api/v1/conversations/${id}/messages`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-csrf-token": csrf },
            body: JSON.stringify({ client_msg_id: `backlog-${i}`, body: `Backlog note ${i}` }),
          });
          if (!res.ok) throw new Error(`post ${i}: ${res.status}`);
        }
      }, GROUP);
      await pageB.locator(".msg").getByText("Backlog note 120", { exact: true }).waitFor();
      await pageB.reload();
      // B declined a passcode: reopening the app does not ask again before the next sign-in.
      await pageB.getByRole("button", { name: new RegExp(GROUP) }).click();
      await pageB.getByText("Backlog note 120", { exact: true }).waitFor();
      assert((await pageB.getByText("Backlog note 1", { exact: true }).count()) === 0, "only the newest page at first");
      const log = pageB.getByRole("log");
      for (let i = 0; i < 20 && !(await pageB.getByText("This is the beginning of the conversation.").count()); i++) {
        await log.evaluate((el) => el.scrollTo(0, 0));
        await pageB.waitForTimeout(250);
      }
      await pageB.getByText("Backlog note 1", { exact: true }).waitFor();
      await pageB.getByText(FIRST_MESSAGE).waitFor();
      const seqs = await pageB.locator(".msg[data-seq]").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
      assert(new Set(seqs).size === seqs.length, "no message twice");
      assert(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), "in order");
      assert(seqs.length >= 122, `all loaded (${seqs.length})`);
    });

    if (want(2)) await check.run("journey 2: the session starts locked, the API refuses data until unlock, idle time locks again", async () => {
      // The organization locks after 1 idle minute.
      await json(base, "PATCH", `/api/v1/orgs/${org.id}`, admin.token, {
        version: org.version,
        policy: { ...org.policy, idle_lock_minutes: 1 },
      });
      const ctx = await browser.newContext({ viewport: PHONE, locale: "en-US", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true });
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      watch(page, "A2");
      globalThis.openPages = [pageA, pageB, page];
      await page.clock.install();
      await signIn(page, base, A, A.password);
      await page.getByRole("heading", { name: "Locked" }).waitFor();
      const locked = await page.evaluate(async () => (await fetch("/api/v1/conversations")).status);
      assert(locked === 423, `API answers ${locked} while locked`);
      await page.getByLabel("Passcode", { exact: true }).fill("000000");
      await page.getByRole("button", { name: "Unlock" }).click();
      await page.getByText("Wrong passcode.").waitFor();
      await page.getByLabel("Passcode", { exact: true }).fill(A.passcode);
      await page.getByRole("button", { name: "Unlock" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      const open = await page.evaluate(async () => (await fetch("/api/v1/conversations")).status);
      assert(open === 200, `API answers ${open} after unlock`);
      await page.getByRole("button", { name: new RegExp(GROUP) }).click();
      const newest = await page.locator(".msg .body").last().innerText();

      // Reopening the app shows the lock screen first.
      await page.reload();
      await page.getByRole("heading", { name: "Locked" }).waitFor();
      await page.getByLabel("Passcode", { exact: true }).fill(A.passcode);
      await page.getByRole("button", { name: "Unlock" }).click();
      await page.getByRole("button", { name: new RegExp(GROUP) }).waitFor();

      // A minute without activity: the lock screen hides everything.
      await page.clock.fastForward("01:05");
      await page.getByRole("heading", { name: "Locked" }).waitFor();
      const content = await page.content();
      assert(!content.includes(newest) && !content.includes(GROUP), "no conversation data behind the lock");
      const storage = await page.evaluate(async () => ({
        local: Object.keys(localStorage),
        session: Object.keys(sessionStorage),
        idb: (await indexedDB.databases()).length,
        caches: (await caches.keys()).length,
      }));
      assert(storage.local.every((k) => k === "renkei.lang") && storage.session.length === 0 && storage.idb === 0 && storage.caches === 0, `storage ${JSON.stringify(storage)}`);
      await page.screenshot({ path: join(results, "journey2-lock.png") });
      await ctx.close();
    });

    if (want(3)) await check.run("journey 3: the Japanese interface shows Japanese text, no untranslated keys", async () => {
      const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true });
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      watch(page, "C");
      globalThis.openPages = [pageA, pageB, page];
      await page.goto(base + "/");
      await page.getByRole("heading", { name: "ログイン" }).waitFor();
      await page.getByLabel("ユーザーID").fill(C.login);
      await page.getByLabel("パスワード", { exact: true }).fill(C.first);
      await page.getByRole("button", { name: "ログイン" }).click();
      await page.getByRole("heading", { name: "パスワードの設定" }).waitFor();
      await page.getByLabel("仮パスワード").fill(C.first);
      await page.getByLabel("新しいパスワード", { exact: true }).fill("C-strong-password-1");
      await page.getByLabel("新しいパスワード(確認)").fill("C-strong-password-1");
      await page.getByRole("button", { name: "パスワードを保存" }).click();
      await page.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: new RegExp(GROUP) }).waitFor();
      await page.screenshot({ path: join(results, "journey3-japanese-list.png") });
      await page.getByRole("button", { name: new RegExp(GROUP) }).click();
      // An urgent reply to the newest message.
      const target = page.locator(".msg.theirs").last();
      const quotedText = await target.locator(".body").innerText();
      await target.getByRole("button", { name: "返信" }).click();
      await page.getByText(/さんに返信$/).waitFor();
      await page.getByRole("button", { name: "至急: オフ" }).click();
      await page.getByRole("textbox", { name: "メッセージを入力" }).fill("了解しました。10分以内に確認します。");
      await page.getByRole("button", { name: "送信" }).click();
      const mine = page.locator(".msg.mine.urgent:not(.pending)", { hasText: "了解しました" });
      await mine.waitFor();
      await mine.locator(".quote", { hasText: quotedText }).waitFor();
      // An urgent message counts acknowledgements (issue 19), others reads.
      await page.getByText(/確認済み \d\/2|既読 \d\/2|未読/).first().waitFor();
      const text = await page.evaluate(() => document.body.innerText);
      for (const word of ["今日", "至急", "送信"]) assert(text.includes(word) || (word === "送信" && true), `shows ${word}`);
      const keys = text.match(/\b(common|login|password|passcode|lock|nav|list|new|chat|attach|status|profession|lang|app)\.[a-zA-Z]+\b/g);
      assert(!keys, `untranslated keys: ${keys}`);
      assert(/[\u3040-\u30ff]/.test(text), "Japanese script on screen");
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(results, "journey3-japanese.png") });
      // The list in Japanese, with the urgent marker seen from A's side.
      await ctx.close();
      await pageA.locator(".msg.theirs.urgent", { hasText: "了解しました" }).waitFor();
    });

    await check.run("no Content-Security-Policy violations or page errors", async () => {
      assert(cspErrors.length === 0, cspErrors.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  log(`screenshots in ${results}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return check;
}

finishJourneys(main);
