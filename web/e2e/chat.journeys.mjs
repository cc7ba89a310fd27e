// Chat journeys of issue 17 in the Japanese interface at phone size (390×844): a chat opens at
// its newest message and stays there while a photo loads; message search by romaji and kana
// opens the message in context; group details (rename, add, remove, mute, retention, leave);
// a send lost offline goes again by itself after reconnecting, stored once; the dark scheme.
//
//   node e2e/chat.journeys.mjs      (builds the binary with cargo unless RENKEI_BIN is set)
//
// Screenshots go to web/test-results/ (and SHOTS_DIR when set).

import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { serverBinary, firstAdmin, createUsers, startServer, stopServer, json, Check, assert, launchBrowser, results, log, finishJourneys, apiUser, toList, signInJa } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const shots = process.env.SHOTS_DIR || results;
mkdirSync(shots, { recursive: true });
const A = { login: "sato", name: "佐藤 花子", kana: "さとう はなこ", profession: "nurse", first: "Onetime-A-123", password: "A-strong-password-1" };
const B = { login: "tanaka", name: "田中 一郎", kana: "たなか いちろう", profession: "doctor", first: "Onetime-B-123", password: "B-strong-password-1" };
const C = { login: "suzuki", name: "鈴木 健太", kana: "すずき けんた", profession: "radiology_technologist", first: "Onetime-C-123", password: "C-strong-password-1" };
const WARD = "5階東病棟";




const post = (base, token, conv, id, body, extra = {}) =>
  json(base, "POST", `/api/v1/conversations/${conv}/messages`, token, { client_msg_id: id, body, ...extra });

/** How far the timeline is from its end, and whether `locator` is wholly on screen in it. */
async function placement(page, locator) {
  const log = page.getByRole("log");
  const fromEnd = await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  const box = await log.boundingBox();
  const item = await locator.boundingBox();
  const visible = !!item && item.y >= box.y - 1 && item.y + item.height <= box.y + box.height + 1;
  return { fromEnd, visible };
}

async function main() {
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  log(`server at ${base}`);
  const check = new Check();
  let browser;
  try {
    const admin = await firstAdmin(server);
    createUsers(bin, server, [A, B, C]);
    const a = await apiUser(base, A);
    const b = await apiUser(base, B);
    const c = await apiUser(base, C);
    // A's group with B: a long history, a search target far back, then a photo as the newest.
    const ward = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "group", title: WARD, member_ids: [b.id] })).id;
    await post(base, b.token, ward, "target", "ケッカは明日です。カリウム再検。");
    for (let i = 1; i <= 70; i++) await post(base, i % 2 ? a.token : b.token, ward, `fill-${i}`, `申し送り ${i}: 夜間の経過は安定`);

    browser = await launchBrowser();
    const errors = [];
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    const watch = (p) => {
      p.on("pageerror", (e) => errors.push(e.message));
      p.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    };
    watch(page);
    globalThis.openPages = [page];
    await signInJa(page, base, A);

    // A real JPEG, drawn in the browser, uploaded by B and posted as the newest message.
    const jpeg = Buffer.from(
      await page.evaluate(async () => {
        const cv = document.createElement("canvas");
        cv.width = 600;
        cv.height = 800;
        const g = cv.getContext("2d");
        g.fillStyle = "#222";
        g.fillRect(0, 0, 600, 800);
        g.fillStyle = "#ccc";
        g.beginPath();
        g.ellipse(300, 400, 220, 300, 0, 0, Math.PI * 2);
        g.fill();
        const blob = await new Promise((ok) => cv.toBlob(ok, "image/jpeg", 0.9));
        return [...new Uint8Array(await blob.arrayBuffer())];
      }),
    );
    const media = await (
      await fetch(base + "/api/v1/media?name=chest.jpg", { method: "POST", headers: { authorization: `Bearer ${b.token}`, "content-type": "image/jpeg" }, body: jpeg })
    ).json();
    assert(media.id, `uploaded: ${JSON.stringify(media)}`);
    const photoMsg = await post(base, b.token, ward, "photo", "胸部写真です", { attachments: [{ kind: "media", id: media.id, name: "chest.jpg" }] });
    // A has read everything but the photo: opening lands on it, the newest.
    await json(base, "POST", `/api/v1/conversations/${ward}/read`, a.token, { seq: photoMsg.seq - 1 });

    await check.run("chat 1: a chat opens at its newest message and stays there while a slow photo loads", async () => {
      // Photos answer late, as on a hospital's Wi-Fi: the layout grows after the chat opened.
      await page.route("**/api/v1/media/**", async (route) => {
        await new Promise((ok) => setTimeout(ok, 1200));
        await route.continue();
      });
      await page.getByRole("button", { name: new RegExp(WARD) }).click();
      const img = page.locator(`.msg[data-seq="${photoMsg.seq}"] img`);
      await img.waitFor();
      await page.waitForFunction(() => [...document.querySelectorAll(".photo-thumb img")].every((i) => i.complete && i.naturalHeight > 0));
      await page.waitForTimeout(300);
      const { fromEnd, visible } = await placement(page, page.locator(`.msg[data-seq="${photoMsg.seq}"]`));
      assert(fromEnd < 4, `at the end of the timeline (${fromEnd}px from it)`);
      assert(visible, "the photo message is wholly on screen");
      assert((await page.locator(".jump-latest").count()) === 0, "no jump button at the newest");
      await page.screenshot({ path: join(shots, "chat1-opens-at-photo-ja.png") });
      await page.unroute("**/api/v1/media/**");

      // Scrolled up, new messages are counted on the jump button; it brings the reader back.
      await page.getByRole("log").evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
      await page.locator(".jump-latest").waitFor();
      await post(base, b.token, ward, "late-1", "追加の所見あり");
      await post(base, b.token, ward, "late-2", "至急ではありません");
      await page.getByRole("button", { name: "新着 2 件" }).waitFor();
      await page.screenshot({ path: join(shots, "chat1-jump-latest-ja.png") });
      await page.getByRole("button", { name: "新着 2 件" }).click();
      await page.getByRole("log").getByText("至急ではありません").waitFor();
      await page.waitForTimeout(200);
      const back = await placement(page, page.locator(".msg", { hasText: "至急ではありません" }));
      assert(back.fromEnd < 4 && back.visible, `back at the newest (${back.fromEnd}px)`);
    });

    await check.run("chat 2: search finds a message by romaji and by kana, and opens it in context", async () => {
      await page.getByRole("button", { name: "戻る" }).click().catch(() => {});
      await page.getByRole("button", { name: "メッセージ検索" }).click();
      const dialog = page.getByRole("dialog", { name: "メッセージ検索" });
      await dialog.getByRole("searchbox").fill("kekka");
      const result = dialog.getByRole("button", { name: /ケッカは明日です/ });
      await result.waitFor();
      assert((await result.locator("mark").innerText()) === "ケッカ", "the kana matched by romaji is marked");
      await page.screenshot({ path: join(shots, "chat2-search-romaji-ja.png") });
      await result.click();
      // The chat opens around the message (far beyond the newest page), scrolled to it and marked.
      const found = page.locator(".msg.highlighted", { hasText: "ケッカは明日です" });
      await found.waitFor();
      await page.waitForTimeout(300);
      assert((await placement(page, found)).visible, "the found message is on screen");
      assert((await page.getByText("申し送り 70: 夜間の経過は安定", { exact: true }).count()) === 0, "the newest page is not loaded");
      await page.screenshot({ path: join(shots, "chat2-found-in-context-ja.png") });
      // Jump to latest loads the newest again.
      await page.locator(".jump-latest").click();
      await page.getByRole("log").getByText("至急ではありません").waitFor();
      // Inside this conversation, by hiragana.
      await page.getByRole("button", { name: "メッセージを検索" }).click();
      await dialog.getByRole("radio", { name: new RegExp(`${WARD} 内`) }).click();
      await dialog.getByRole("searchbox").fill("けっか");
      await dialog.getByRole("button", { name: /ケッカは明日です/ }).waitFor();
      await dialog.getByRole("searchbox").fill("存在しない語");
      await dialog.getByText("見つかりませんでした").waitFor();
      await dialog.getByRole("button", { name: "閉じる" }).click();
    });

    await check.run("chat 3: group details: rename, add and remove a member, retention, mute, leave", async () => {
      await page.getByRole("button", { name: "会話の詳細" }).click();
      const info = page.getByRole("dialog", { name: "グループの詳細" });
      await info.getByText(B.name).waitFor();
      // Rename.
      await info.getByLabel("グループ名").fill("5階東病棟 夜勤");
      await info.getByRole("button", { name: "保存" }).first().click();
      await page.locator("#chat-title", { hasText: "5階東病棟 夜勤" }).waitFor();
      // Add C, found by kana.
      await info.getByRole("button", { name: "メンバーを追加" }).click();
      await info.getByRole("searchbox", { name: "氏名・かな・ローマ字" }).fill("すずき");
      await info.getByRole("button", { name: `${C.name} を追加` }).click();
      await info.locator(".member-list").getByText(C.name).waitFor();
      await info.getByRole("button", { name: "完了" }).click();
      let members = await json(base, "GET", `/api/v1/conversations/${ward}/members`, a.token);
      assert(members.some((m) => m.user_id === c.id), "C is a member on the server");
      // Remove C, after confirming.
      await info.getByRole("button", { name: `${C.name} を外す` }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "外す" }).click();
      await info.locator(".member-list").getByText(C.name).waitFor({ state: "detached" });
      members = await json(base, "GET", `/api/v1/conversations/${ward}/members`, a.token);
      assert(!members.some((m) => m.user_id === c.id), "C removed on the server");
      // Retention: 2 days (the policy keeps 3).
      await info.getByLabel("写真・検査の表示期間").fill("2");
      await info.getByRole("button", { name: "保存" }).nth(1).click();
      await page.waitForFunction(async (id) => (await (await fetch(`/api/v1/conversations/${id}`)).json()).retention_days === 2, ward);
      // Mute: my own setting, on the server.
      await info.getByRole("radio", { name: "ミュート" }).check();
      await page.waitForFunction(async (id) => (await (await fetch(`/api/v1/conversations/${id}`)).json()).notify === "mute", ward);
      await info.getByText("至急のメッセージは常に通知されます", { exact: false }).waitFor();
      await page.screenshot({ path: join(shots, "chat3-group-details-ja.png") });
      await info.getByRole("button", { name: "閉じる" }).click();
      await page.locator(".notify-tag", { hasText: "ミュート中" }).waitFor();
      const bView = await json(base, "GET", `/api/v1/conversations/${ward}`, b.token);
      assert(bView.notify === "all", "B's own setting is untouched");

      // A leaves a group that B made.
      const other = (await json(base, "POST", "/api/v1/conversations", b.token, { kind: "group", title: "退出テスト", member_ids: [a.id] })).id;
      await post(base, b.token, other, "hello-leave", "よろしくお願いします");
      await page.getByRole("button", { name: "戻る" }).click();
      await page.getByRole("button", { name: /退出テスト/ }).click();
      await page.getByRole("button", { name: "会話の詳細" }).click();
      await page.getByRole("button", { name: "グループを退出" }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "グループを退出" }).click();
      // Back on the list (hidden while the chat was open on a phone), without that group.
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.waitForFunction(() => ![...document.querySelectorAll(".row-title")].some((e) => e.textContent.includes("退出テスト")));
      members = await json(base, "GET", `/api/v1/conversations/${other}/members`, b.token);
      assert(!members.some((m) => m.user_id === a.id), `A left on the server: ${JSON.stringify(members)} a=${a.id}`);
    });

    await check.run("chat 4: a send lost offline goes again by itself after reconnecting, stored once", async () => {
      await page.getByRole("button", { name: new RegExp(WARD) }).click();
      await ctx.setOffline(true);
      await page.getByText("オフラインです。再接続しています…").waitFor();
      const text = "オフライン中の送信: 輸液ポンプ交換済み";
      await page.getByRole("textbox", { name: "メッセージを入力" }).fill(text);
      await page.getByRole("button", { name: "送信" }).click();
      await page.getByText("送信できませんでした。").waitFor();
      await page.screenshot({ path: join(shots, "chat4-failed-offline-ja.png") });
      await ctx.setOffline(false);
      // No tap on retry: it goes with the same client_msg_id once the socket is back.
      await page.locator(".msg.mine:not(.pending)", { hasText: text }).waitFor({ timeout: 30_000 });
      assert((await page.getByText("送信できませんでした。").count()) === 0, "no failed send left");
      const history = await json(base, "GET", `/api/v1/conversations/${ward}/messages?limit=200`, a.token);
      assert(history.filter((m) => m.body === text).length === 1, "stored exactly once");
      assert((await page.locator(".msg", { hasText: text }).count()) === 1, "shown once");
    });

    await check.run("chat 5: the dark scheme follows the device, and light stays light", async () => {
      const lightBg = await page.evaluate(() => getComputedStyle(document.querySelector(".chat-header")).backgroundColor);
      await page.screenshot({ path: join(shots, "chat5-light-ja.png") });
      const dark = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, colorScheme: "dark" });
      dark.setDefaultTimeout(15_000);
      const night = await dark.newPage();
      watch(night);
      globalThis.openPages = [page, night];
      await signInJa(night, base, B);
      await night.screenshot({ path: join(shots, "chat5-dark-list-ja.png") });
      await night.getByRole("button", { name: /5階東病棟/ }).click();
      await night.getByRole("log").getByText("オフライン中の送信").waitFor();
      await night.waitForTimeout(300);
      await night.screenshot({ path: join(shots, "chat5-dark-chat-ja.png") });
      await night.getByRole("button", { name: "会話の詳細" }).click();
      await night.getByRole("dialog", { name: "グループの詳細" }).getByText(A.name).waitFor();
      await night.screenshot({ path: join(shots, "chat5-dark-details-ja.png") });
      const luminance = (rgb) => {
        const [r, g, bl] = rgb.match(/\d+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * bl) / 255;
      };
      const surface = await night.evaluate(() => getComputedStyle(document.querySelector(".chat-header")).backgroundColor);
      const text = await night.evaluate(() => getComputedStyle(document.querySelector(".chat-header h2")).color);
      assert(luminance(surface) < 0.2, `dark surfaces (${surface})`);
      assert(luminance(text) > 0.7, `light text (${text})`);
      assert(luminance(lightBg) > 0.8, `light stays light (${lightBg})`);
      // The directory and the admin console, at night.
      await night.getByRole("button", { name: "閉じる" }).click();
      await night.getByRole("button", { name: "戻る" }).click();
      await night.getByRole("button", { name: "メニュー" }).click();
      await night.getByRole("menuitem", { name: "名簿と連携先" }).click();
      await night.locator("dialog.coop li.coop-person").first().waitFor();
      await night.screenshot({ path: join(shots, "chat5-dark-directory-ja.png") });
      const boss = await dark.newPage();
      watch(boss);
      await dark.clearCookies();
      await signInJa(boss, base, { login: "admin", password: "admin-password-0001" });
      await boss.getByRole("button", { name: "メニュー" }).click();
      await boss.getByRole("menuitem", { name: "管理" }).click();
      await boss.getByRole("dialog").first().waitFor();
      await boss.waitForTimeout(500);
      await boss.screenshot({ path: join(shots, "chat5-dark-admin-ja.png") });
      const adminBg = await boss.evaluate(() => getComputedStyle(document.querySelector(".admin") ?? document.body).backgroundColor);
      assert(luminance(adminBg) < 0.2, `dark admin console (${adminBg})`);
      await dark.close();
    });

    await check.run("no Content-Security-Policy violations or page errors", async () => {
      assert(errors.length === 0, errors.join("\n"));
    });
    void admin;
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  return check;
}

finishJourneys(main);
