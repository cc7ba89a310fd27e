// Push journeys of issue 19 in the Japanese interface at phone size (390×844): the service worker
// shows a notification for a push delivered with the DevTools protocol
// (`ServiceWorker.deliverPushMessage`), reports its receipt, and a tap opens the conversation,
// through the lock screen when a passcode is set; the sender's delivery line and per-person
// list; the recipient's one-tap acknowledgement of an urgent message; the notification
// settings and troubleshooting screens.
//
// Headless Chromium cannot subscribe to a real push service (no FCM connection), so the pushes
// here are handed to the service worker by the DevTools protocol; the server's side of push
// (encryption, VAPID, the push service) is tested in Rust against a local stand-in.
//
//   node e2e/push.journeys.mjs      (builds the binary with cargo unless RENKEI_BIN is set)
//
// Screenshots go to web/test-results/ (and SHOTS_DIR when set).

import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { createDecipheriv, createECDH, createHmac, randomBytes } from "node:crypto";
import { serverBinary, firstAdmin, createUsers, startServer, stopServer, json, pageJson, Check, assert, launchBrowser, results, log, finishJourneys, freePort, apiUser, toList, signInJa } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const shots = process.env.SHOTS_DIR || results;
mkdirSync(shots, { recursive: true });
const A = { login: "sato", name: "佐藤 花子", kana: "さとう はなこ", profession: "nurse", first: "Onetime-A-123", password: "A-strong-password-1" };
const B = { login: "tanaka", name: "田中 一郎", kana: "たなか いちろう", profession: "doctor", first: "Onetime-B-123", password: "B-strong-password-1" };
const C = { login: "suzuki", name: "鈴木 健太", kana: "すずき けんた", profession: "doctor", first: "Onetime-C-123", password: "C-strong-password-1" };
const WARD = "5階東病棟";
const PASSCODE = "246810";




const post = (base, token, conv, id, body, extra = {}) =>
  json(base, "POST", `/api/v1/conversations/${conv}/messages`, token, { client_msg_id: id, body, ...extra });

/** A push service on loopback: records each request and answers 201 (the Rust tests' stand-in
 * also checks VAPID; here the point is the path from the server to the service worker). */
async function pushService() {
  const port = await freePort();
  const got = [];
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      got.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201).end();
    });
  });
  await new Promise((ok) => srv.listen(port, "127.0.0.1", ok));
  return { port, got, close: () => new Promise((ok) => srv.close(ok)) };
}

/** A browser's push keys: the P-256 pair and the auth secret (what PushSubscription holds). */
function pushKeys() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return { ecdh, auth: randomBytes(16) };
}
const b64url = (buf) => Buffer.from(buf).toString("base64url");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

/** Decrypts an RFC 8291 `aes128gcm` push body with the subscription's keys, as a browser does. */
function decryptPush(body, { ecdh, auth }) {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const serverKey = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const shared = ecdh.computeSecret(serverKey);
  const info = Buffer.concat([Buffer.from("WebPush: info\0"), ecdh.getPublicKey(), serverKey, Buffer.from([1])]);
  const ikm = hmac(hmac(auth, shared), info);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0\x01")).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0\x01")).subarray(0, 12);
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = plain.length - 1;
  while (end > 0 && plain[end] === 0) end--;
  return plain.subarray(0, end).toString("utf8"); // the last record ends with the delimiter 2
}

/** Whether the server has a route (the push and urgent parts land separately). */
async function has(base, token, path) {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  return res.status !== 404;
}

/** The service worker's registration id at the app's root, from the DevTools protocol. */
async function registrationId(cdp, base) {
  const found = new Promise((ok) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const r = registrations.find((r) => r.scopeURL === base + "/" && !r.isDeleted);
      if (r) ok(r.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  return Promise.race([found, new Promise((_, no) => setTimeout(() => no(new Error("no service worker registration at /")), 10_000))]);
}

/** Hands a push to the service worker and waits until its notification shows. A push handed
 * over while the worker is being started again after a reload is sometimes not dispatched by
 * the DevTools protocol: it is handed over again (and the retry is logged). */
async function deliver(page, cdp, base, regId, payload, match) {
  for (let attempt = 1; ; attempt++) {
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: regId, data: JSON.stringify(payload) });
    try {
      return await waitFor(async () => (await shown(page)).find(match), "the notification", 4_000);
    } catch (e) {
      if (attempt === 3) throw e;
      log(`push not shown after 4 s, handing it over again (attempt ${attempt + 1})`);
    }
  }
}

/** The notifications the service worker shows now. */
function shown(page) {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data, requireInteraction: n.requireInteraction }));
  });
}

async function waitFor(fn, what, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await new Promise((ok) => setTimeout(ok, 150));
  }
}

/** Taps a shown notification: the service worker's own `notificationclick` handler runs on the
 * notification it showed (the DevTools protocol has no notification click; the event is
 * dispatched in the worker, so `clients.openWindow`, which needs a real tap, is not covered). */
async function tapNotification(worker, tag) {
  await worker.evaluate(async (tag) => {
    const [n] = await self.registration.getNotifications({ tag });
    if (!n) throw new Error(`no notification ${tag}`);
    self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n }));
  }, tag);
}

async function main() {
  const bin = serverBinary();
  const service = await pushService();
  // The server may push to the loopback stand-in (http: allowed for loopback entries only).
  process.env.RENKEI_PUSH_ENDPOINT_ALLOW = JSON.stringify([`127.0.0.1:${service.port}`]);
  const server = await startServer(bin);
  const { base } = server;
  log(`server at ${base}`);
  const check = new Check();
  let browser;
  try {
    await firstAdmin(server);
    createUsers(bin, server, [A, B, C]);
    const a = await apiUser(base, A);
    const b = await apiUser(base, B);
    const c = await apiUser(base, C);
    const ward = (await json(base, "POST", "/api/v1/conversations", b.token, { kind: "group", title: WARD, member_ids: [a.id, c.id] })).id;
    const m1 = await post(base, b.token, ward, "m1", "申し送りです。");
    const pushRoutes = await has(base, a.token, "/api/v1/push/config");
    // The delivery states are there when the receipts name each reader's state.
    const receipts = await fetch(`${base}/api/v1/conversations/${ward}/messages/${m1.seq}/receipts`, { headers: { authorization: `Bearer ${b.token}` } });
    const urgentRoutes = receipts.ok && "state" in ((await receipts.json()).readers?.[0] ?? {});
    log(`server routes: push ${pushRoutes ? "present" : "MISSING"}, urgent/delivery ${urgentRoutes ? "present" : "MISSING"}`);

    browser = await launchBrowser();
    const errors = [];
    const ctxA = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true });
    ctxA.setDefaultTimeout(15_000);
    await ctxA.grantPermissions(["notifications"], { origin: base });
    let page = await ctxA.newPage();
    const watch = (p) => {
      p.on("pageerror", (e) => errors.push(e.message));
      p.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    };
    watch(page);
    globalThis.openPages = [page];
    await signInJa(page, base, A);

    let cdp;
    let regId;
    let worker;
    await check.run("push 1: the service worker is registered at the app's root and served as JavaScript", async () => {
      const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
      assert(scope === base + "/", `scope ${scope}`);
      const res = await fetch(base + "/sw.js");
      assert(res.ok && /javascript/.test(res.headers.get("content-type")), `sw.js ${res.status} ${res.headers.get("content-type")}`);
      assert(/no-cache|no-store/.test(res.headers.get("cache-control")), "sw.js is revalidated (updates reach phones)");
      cdp = await ctxA.newCDPSession(page);
      regId = await registrationId(cdp, base);
      worker = ctxA.serviceWorkers()[0] ?? (await ctxA.waitForEvent("serviceworker"));
    });

    if (pushRoutes) {
      await check.run("push 1b: a message goes from the server, encrypted, through the push service to the service worker", async () => {
        // This device's keys as a browser would hold them, registered with the server (headless
        // Chromium cannot subscribe to a real push service).
        const keys = pushKeys();
        const endpoint = `http://127.0.0.1:${service.port}/push/a`;
        const sub = { endpoint, expirationTime: null, keys: { p256dh: b64url(keys.ecdh.getPublicKey()), auth: b64url(keys.auth) }, device_label: "iPhone · Safari" };
        const first = await fetch(base + "/api/v1/push/subscriptions", { method: "POST", headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" }, body: JSON.stringify(sub) });
        assert(first.status === 201, `registered: ${first.status}`);
        const again = await fetch(base + "/api/v1/push/subscriptions", { method: "POST", headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" }, body: JSON.stringify(sub) });
        assert(again.status === 200, `the same endpoint again: ${again.status}`);
        const secret = "田中太郎 ID 1234567890 の検査結果";
        const m = await post(base, b.token, ward, "real-1", secret);
        const req = await waitFor(() => service.got.find((r) => r.path === "/push/a"), "the push at the push service");
        assert(req.headers["content-encoding"] === "aes128gcm" && /^vapid t=/.test(req.headers.authorization ?? ""), "encrypted and signed");
        assert(req.headers.ttl && req.headers.urgency === "normal" && req.headers.topic, `headers ${JSON.stringify(req.headers)}`);
        const text = decryptPush(req.body, keys);
        const payload = JSON.parse(text);
        assert(payload.conversation_id === ward && payload.seq === m.seq && payload.urgent === false, text);
        assert(!text.includes("田中太郎") && !text.includes("1234567890"), `no message content in the push: ${text}`);
        await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: regId, data: text });
        const n = await waitFor(async () => (await shown(page)).find((n) => n.tag === `c:${ward}`), "the notification");
        assert(n.body === payload.text && n.title === "renkei", JSON.stringify(n));
        await page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).forEach((n) => n.close()));
      });
    }

    await check.run("push 2: a push delivered by the DevTools protocol shows a notification (tag = conversation)", async () => {
      const payload = { kind: "message", conversation_id: ward, seq: m1.seq, urgent: false, text: "新着メッセージ" };
      await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: regId, data: JSON.stringify(payload) });
      const list = await waitFor(async () => (await shown(page)).find((n) => n.tag === `c:${ward}`), "the notification");
      assert(list.title === "renkei" && list.body === "新着メッセージ", JSON.stringify(list));
      assert(list.requireInteraction === false, "a normal message does not stay");
      assert(list.data.conversation_id === ward, "the notification knows its conversation");
    });

    await check.run("push 3: an urgent push is marked 至急 and stays until touched; a re-alert replaces it", async () => {
      const payload = { kind: "urgent", conversation_id: ward, seq: m1.seq, urgent: true, text: "新着メッセージ" };
      await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: regId, data: JSON.stringify(payload) });
      await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: regId, data: JSON.stringify({ ...payload, kind: "realert" }) });
      const n = await waitFor(async () => (await shown(page)).find((n) => n.tag === `c:${ward}` && n.title.includes("至急")), "the urgent notification");
      assert(n.requireInteraction === true, "urgent stays");
      const same = (await shown(page)).filter((n) => n.tag === `c:${ward}`);
      assert(same.length === 1, `one notification per conversation (${same.length})`);
    });

    await check.run("push 4: tapping the notification opens the conversation", async () => {
      await tapNotification(worker, `c:${ward}`);
      await page.getByRole("heading", { name: WARD }).waitFor();
      await page.getByRole("log").getByText("申し送りです。").waitFor();
      const left = await shown(page);
      assert(!left.some((n) => n.tag === `c:${ward}`), "the tapped notification is closed");
    });

    await check.run("push 5: with a passcode set, a tap shows the lock screen first, then the conversation", async () => {
      await pageJson(page, "PUT", "/api/v1/me/passcode", { passcode: PASSCODE });
      await page.goto(base + "/");
      await page.getByRole("heading", { name: "ロック中" }).waitFor();
      await cdp.detach().catch(() => undefined);
      cdp = await ctxA.newCDPSession(page);
      regId = await registrationId(cdp, base);
      await deliver(page, cdp, base, regId, { kind: "message", conversation_id: ward, seq: m1.seq, urgent: false, text: "新着メッセージ" }, (n) => n.tag === `c:${ward}`);
      worker = ctxA.serviceWorkers()[0] ?? worker;
      await tapNotification(worker, `c:${ward}`);
      await page.waitForTimeout(500);
      assert(await page.getByRole("heading", { name: "ロック中" }).isVisible(), "still the lock screen");
      assert((await page.getByText("申し送りです。").count()) === 0, "no message shows behind the lock");
      await page.screenshot({ path: join(shots, "push5-lock-first-ja.png") });
      await page.getByLabel("パスコード").fill(PASSCODE);
      await page.getByRole("button", { name: "ロック解除" }).click();
      await page.getByRole("heading", { name: WARD }).waitFor();
      await page.getByRole("log").getByText("申し送りです。").waitFor();
    });

    await check.run("push 6: the address a tap opens when no window is open (/?c=…) goes through the lock too", async () => {
      await page.goto(`${base}/?c=${ward}`);
      await page.getByRole("heading", { name: "ロック中" }).waitFor();
      assert(new URL(page.url()).search === "", `the address is cleaned (${page.url()})`);
      await page.getByLabel("パスコード").fill(PASSCODE);
      await page.getByRole("button", { name: "ロック解除" }).click();
      await page.getByRole("heading", { name: WARD }).waitFor();
    });

    if (urgentRoutes) {
      await check.run("push 7: the service worker reports the push it got (POST /api/v1/push/receipts inside waitUntil)", async () => {
        // A's app is closed (no socket), so only the service worker can mark the message delivered.
        const blank = await ctxA.newPage();
        await page.close();
        const m = await post(base, b.token, ward, "m2", "検査結果が出ました。");
        const cdp2 = await ctxA.newCDPSession(blank);
        const reg2 = await registrationId(cdp2, base);
        await cdp2.send("ServiceWorker.deliverPushMessage", {
          origin: base,
          registrationId: reg2,
          data: JSON.stringify({ kind: "message", conversation_id: ward, seq: m.seq, urgent: false, text: "新着メッセージ" }),
        });
        await waitFor(async () => {
          const r = await json(base, "GET", `/api/v1/conversations/${ward}/messages/${m.seq}/receipts`, b.token);
          return r.readers.find((x) => x.user_id === a.id)?.state === "delivered";
        }, "A's state is delivered");
        await cdp2.detach();
        page = blank;
        watch(page);
        globalThis.openPages = [page];
        await page.goto(base + "/");
        await page.getByLabel("パスコード").fill(PASSCODE);
        await page.getByRole("button", { name: "ロック解除" }).click();
        await page.getByRole("heading", { name: "トーク" }).waitFor();
      });

      const ctxB = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true });
      ctxB.setDefaultTimeout(15_000);
      const pageB = await ctxB.newPage();
      watch(pageB);
      globalThis.openPages = [page, pageB];
      await signInJa(pageB, base, B);
      const urgent = await post(base, b.token, ward, "u1", "至急：302号室の血圧低下、来てください。", { priority: "urgent" });

      await check.run("push 8: the recipient acknowledges an urgent message with one tap; the button goes", async () => {
        await page.getByRole("button", { name: new RegExp(WARD) }).click();
        const ack = page.locator(`.msg[data-seq="${urgent.seq}"]`).getByRole("button", { name: "確認しました" });
        await ack.waitFor();
        await page.screenshot({ path: join(shots, "push8-urgent-ack-button-ja.png") });
        await ack.click();
        await ack.waitFor({ state: "detached" });
        const r = await json(base, "GET", `/api/v1/conversations/${ward}/messages/${urgent.seq}/receipts`, b.token);
        assert(r.readers.find((x) => x.user_id === a.id)?.state === "acknowledged", JSON.stringify(r));
      });

      await check.run("push 9: the sender sees 確認済み 1/2 under the message and each person's state on tap", async () => {
        await pageB.getByRole("button", { name: new RegExp(WARD) }).click();
        const line = pageB.locator(`.msg[data-seq="${urgent.seq}"] .receipt`);
        await pageB.waitForFunction((seq) => document.querySelector(`.msg[data-seq="${seq}"] .receipt`)?.textContent?.includes("確認済み 1/2"), urgent.seq);
        await pageB.screenshot({ path: join(shots, "push9-delivery-line-ja.png") });
        await line.click();
        const dialog = pageB.getByRole("dialog", { name: "配信の状況" });
        await dialog.waitFor();
        await dialog.getByText(A.name).waitFor();
        assert(await dialog.locator("li", { hasText: A.name }).getByText("確認済み").isVisible(), "A acknowledged");
        assert(await dialog.locator("li", { hasText: C.name }).isVisible(), "C is listed");
        await pageB.screenshot({ path: join(shots, "push9-per-person-ja.png") });
        await pageB.keyboard.press("Escape");
      });
      await ctxB.close();
    } else log("SKIP push 7-9: the server has no delivery states yet (urgent part not merged)");

    await check.run("push 10: the notification settings and the troubleshooting screen", async () => {
      // Back from the conversation to the list (the phone shows one at a time).
      if (await page.getByRole("log").isVisible()) await page.goBack();
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "通知の設定" }).click();
      const sheet = page.getByRole("dialog", { name: "通知の設定" });
      await sheet.waitFor();
      await sheet.getByRole("heading", { name: "通知しない時間帯" }).waitFor();
      await sheet.getByRole("heading", { name: "不在時の代理" }).waitFor();
      // Headless Chromium has no push service: this device shows as not registered.
      await sheet.getByRole("status").first().waitFor();
      if (pushRoutes) {
        await sheet.getByLabel("開始").fill("22:00");
        await sheet.getByLabel("終了").fill("06:30");
        await sheet.getByRole("button", { name: "保存" }).click();
        await sheet.getByText("保存しました").waitFor();
        await sheet.getByRole("button", { name: "選ぶ" }).click();
        await sheet.getByLabel("氏名・かな・ローマ字").fill("すずき");
        await sheet.getByRole("button", { name: `${C.name} を選ぶ` }).click();
        await sheet.getByText(C.name).waitFor();
        const prefs = await json(base, "GET", "/api/v1/me/notifications", a.token);
        assert(prefs.dnd_start === "22:00" && prefs.dnd_end === "06:30" && prefs.covering_user_id === c.id, JSON.stringify(prefs));
        await sheet.getByText("iPhone · Safari").waitFor();
      }
      await page.screenshot({ path: join(shots, "push10-settings-ja.png") });
      if (pushRoutes) {
        await sheet.getByRole("button", { name: "iPhone · Safari を削除" }).click();
        await sheet.getByText("登録された端末はありません。").waitFor();
        assert((await json(base, "GET", "/api/v1/push/subscriptions", a.token)).length === 0, "removed on the server");
      }
      await sheet.getByRole("button", { name: /原因と対処|通知が届かないとき/ }).click();
      const help = page.getByRole("dialog", { name: "通知が届かないとき" });
      await help.waitFor();
      await help.getByRole("heading", { name: /ブロックされています/ }).waitFor();
      await help.getByRole("heading", { name: /ホーム画面に追加/ }).waitFor();
      await help.getByRole("heading", { name: /登録されていません/ }).waitFor();
      await help.getByText(/電池の最適化/).waitFor();
      await page.screenshot({ path: join(shots, "push10-troubleshooting-ja.png") });
    });

    await check.run("push 11: no page error, nothing refused by the Content-Security-Policy", async () => {
      assert(errors.length === 0, errors.join("\n"));
    });
  } finally {
    if (browser) await browser.close();
    await stopServer(server);
    await service.close();
  }
  return check;
}

finishJourneys(main);
