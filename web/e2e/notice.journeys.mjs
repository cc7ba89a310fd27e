// The escalation notice of issue 19 in the Japanese interface at phone size (390×844): an urgent
// message left unacknowledged goes to the recipient's covering colleague, who sees a system line
// in their direct conversation with the sender (who, when, for how long; never the content),
// live in the list and in its place by seq among the messages. The escalation runs for real, with
// the shortest policy the server accepts (60 s): the journey's only wait.
//
//   node e2e/notice.journeys.mjs      (builds the binary with cargo unless RENKEI_BIN is set)
//   VITE_DEV=1 …                      (the client from this tree through Vite, proxying the API
//                                      to the binary, when the binary embeds an older client)
//
// Screenshots go to web/test-results/ (and SHOTS_DIR when set).

import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { serverBinary, firstAdmin, createUsers, startServer, stopServer, json, Check, assert, launchBrowser, results, log, finishJourneys, freePort, web, apiUser } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const shots = process.env.SHOTS_DIR || results;
mkdirSync(shots, { recursive: true });
const A = { login: "sato", name: "佐藤 花子", kana: "さとう はなこ", profession: "nurse", first: "Onetime-A-123", password: "A-strong-password-1" };
const B = { login: "tanaka", name: "田中 一郎", kana: "たなか いちろう", profession: "doctor", first: "Onetime-B-123", password: "B-strong-password-1" };
const C = { login: "suzuki", name: "鈴木 健太", kana: "すずき けんた", profession: "doctor", first: "Onetime-C-123", password: "C-strong-password-1" };
const D = { login: "takahashi", name: "高橋 美咲", kana: "たかはし みさき", profession: "nurse", first: "Onetime-D-123", password: "D-strong-password-1" };
const E = { login: "ito", name: "伊藤 誠", kana: "いとう まこと", profession: "doctor", first: "Onetime-E-123", password: "E-strong-password-1" };
const SECRET = "山田太郎 1234567890 の血圧";


/** The client: the binary's own, or this tree's through Vite (VITE_DEV) proxying to `api`. */
async function clientBase(api) {
  if (!process.env.VITE_DEV) return { base: api, close: async () => {} };
  const { createServer } = await import("vite");
  const port = await freePort();
  const target = new URL(api);
  const vite = await createServer({
    root: web,
    logLevel: "warn",
    server: {
      port,
      strictPort: true,
      host: "127.0.0.1",
      proxy: { "/api": api, "/ws": { target: `ws://${target.host}`, ws: true } },
    },
  });
  await vite.listen();
  return { base: `http://127.0.0.1:${port}`, close: () => vite.close() };
}

async function main() {
  const bin = serverBinary();
  const server = await startServer(bin);
  const check = new Check();
  const browser = await launchBrowser();
  const client = await clientBase(server.base);
  try {
    const api = server.base;
    const admin = await firstAdmin(server);
    createUsers(bin, server, [A, B, C, D, E]);
    const [a, b, c, d, e] = [await apiUser(api, A), await apiUser(api, B), await apiUser(api, C), await apiUser(api, D), await apiUser(api, E)];
    const [org] = await json(api, "GET", "/api/v1/orgs", admin.token);
    const full = await json(api, "GET", `/api/v1/orgs/${org.id}`, admin.token);
    await json(api, "PATCH", `/api/v1/orgs/${org.id}`, admin.token, {
      version: full.version,
      policy: { ...full.policy, urgent_escalate_after_seconds: 60, urgent_realert_seconds: 30 },
    });
    const prefs = await json(api, "GET", "/api/v1/me/notifications", b.token);
    await json(api, "PUT", "/api/v1/me/notifications", b.token, { ...prefs, covering_user_id: c.id });
    // D's colleague E has never talked with the sender: the notice is the conversation's only entry.
    await json(api, "PUT", "/api/v1/me/notifications", d.token, { ...prefs, covering_user_id: e.id });

    // The colleague already talks with the sender: the notice goes between their messages.
    const ac = (await json(api, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [c.id] })).id;
    await json(api, "POST", `/api/v1/conversations/${ac}/messages`, a.token, { client_msg_id: "n-1", body: "今日の当直よろしくお願いします。" });
    await json(api, "POST", `/api/v1/conversations/${ac}/messages`, c.token, { client_msg_id: "n-2", body: "了解です。" });

    const context = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo" });
    const page = await context.newPage();
    await page.goto(client.base + "/");
    await page.getByLabel("ユーザーID").fill(C.login);
    await page.getByLabel("パスワード", { exact: true }).fill(C.password);
    await page.getByRole("button", { name: "ログイン" }).click();
    const later = page.getByRole("button", { name: "あとで" });
    const list = page.getByRole("heading", { name: "トーク" });
    await later.or(list).first().waitFor();
    if (await later.isVisible()) await later.click();
    await list.waitFor();
    await page.getByRole("button", { name: new RegExp(A.name) }).click();
    await page.locator("p.body", { hasText: "了解です。" }).waitFor();

    const ab = (await json(api, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [b.id] })).id;
    await json(api, "POST", `/api/v1/conversations/${ab}/messages`, a.token, { client_msg_id: "u-1", body: SECRET, priority: "urgent" });
    const ad = (await json(api, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [d.id] })).id;
    await json(api, "POST", `/api/v1/conversations/${ad}/messages`, a.token, { client_msg_id: "u-2", body: SECRET, priority: "urgent" });
    log("waiting for the escalation (policy: 60 s)…");

    const notice = page.locator(".system-notice");
    await check.run("the covering colleague sees the escalation notice live in the open conversation", async () => {
      await notice.waitFor({ timeout: 100_000 });
      const text = await notice.innerText();
      assert(text.includes("至急メッセージ未確認の転送") && text.includes(`${B.name}さん`) && text.includes("分間確認していません"), text);
      assert(text.includes(`送信者: ${A.name}さん`), text);
      assert(!text.includes("山田") && !text.includes("1234567890"), "the notice holds no content");
    });
    await page.screenshot({ path: join(shots, "notice-live-ja.png") });

    await check.run("after a reload the notice is read from the events, between the messages by seq", async () => {
      await json(api, "POST", `/api/v1/conversations/${ac}/messages`, a.token, { client_msg_id: "n-3", body: "田中先生の件、見ていただけますか。" });
      await page.reload();
      const later2 = page.getByRole("button", { name: "あとで" });
      await later2.or(list).first().waitFor();
      if (await later2.isVisible()) await later2.click();
      await page.getByRole("button", { name: new RegExp(A.name) }).click();
      await page.locator("p.body", { hasText: "田中先生の件" }).waitFor();
      await notice.waitFor();
      const order = await page.locator(".messages-inner").innerText();
      const [i1, iN, i3] = [order.indexOf("了解です。"), order.indexOf("至急メッセージ未確認の転送"), order.indexOf("田中先生の件")];
      assert(i1 >= 0 && i1 < iN && iN < i3, `order ${i1} ${iN} ${i3}`);
    });
    await page.screenshot({ path: join(shots, "notice-ja.png") });
    await context.close();

    await check.run("a conversation whose only entry is the notice: listed, and the notice shows instead of 'no messages'", async () => {
      const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo" });
      const p = await ctx.newPage();
      await p.goto(client.base + "/");
      await p.getByLabel("ユーザーID").fill(E.login);
      await p.getByLabel("パスワード", { exact: true }).fill(E.password);
      await p.getByRole("button", { name: "ログイン" }).click();
      const later3 = p.getByRole("button", { name: "あとで" });
      const list3 = p.getByRole("heading", { name: "トーク" });
      await later3.or(list3).first().waitFor();
      if (await later3.isVisible()) await later3.click();
      const row = p.getByRole("button", { name: new RegExp(A.name) });
      await row.waitFor();
      await p.screenshot({ path: join(shots, "notice-only-list-ja.png") });
      await row.click();
      const only = p.locator(".system-notice");
      await only.waitFor();
      const text = await only.innerText();
      assert(text.includes(`${D.name}さん`) && text.includes(`送信者: ${A.name}さん`), text);
      assert((await p.getByText("メッセージはまだありません。").count()) === 0, "no 'no messages' line beside the notice");
      await p.screenshot({ path: join(shots, "notice-only-ja.png") });
      await ctx.close();
    });
  } finally {
    await browser.close();
    await client.close();
    await stopServer(server);
  }
  return check;
}

finishJourneys(main);
