// Call journeys of issue 20 in the Japanese interface at phone size (390×844), with Chromium's
// fake camera and microphone: a 1:1 video call between two browser contexts (ringing, answer,
// media flowing both ways by getStats, mute seen on the other side, busy for a third caller,
// hang-up ending it for both), a declined call, a call nobody answers, looking at a CT together
// (the follower's viewer shows the leader's slice and window, and the pointer), and a 3-person
// group call through the SFU.
//
//   node e2e/calls.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Needs dcmtk (storescu) and pydicom for the shared view. E2E_ONLY=p2p,decline,noanswer,shared,group
// runs some. Screenshots go to web/test-results/ (and SHOTS_DIR when set).

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverBinary, cli, firstAdmin, createUsers, startServer, stopServer, json, Check, assert, launchBrowser, results, log, freePort, here, finishJourneys } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const shots = process.env.SHOTS_DIR || results;
mkdirSync(shots, { recursive: true });
const A = { login: "sato", name: "佐藤 花子", kana: "さとう はなこ", profession: "doctor", first: "Onetime-A-123", password: "A-strong-password-1" };
const B = { login: "tanaka", name: "田中 一郎", kana: "たなか いちろう", profession: "doctor", first: "Onetime-B-123", password: "B-strong-password-1" };
const C = { login: "suzuki", name: "鈴木 健太", kana: "すずき けんた", profession: "nurse", first: "Onetime-C-123", password: "C-strong-password-1" };
const GROUP = "救急外来 夜勤";
const SLICES = 24;

/** Signs in over the API and replaces the one-time password; returns the bearer token and id. */
async function apiUser(base, u) {
  const login = async (password) =>
    (
      await fetch(base + "/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ login: u.login, password }),
      })
    ).json();
  const first = await login(u.first);
  await json(base, "PUT", "/api/v1/me/password", first.token, { current_password: u.first, new_password: u.password });
  const again = await login(u.password);
  return { token: again.token, id: again.user.id };
}

/** Signs in through the Japanese form and waits for the list (declining a passcode). */
async function signInJa(page, base, u) {
  await page.goto(base + "/");
  await page.getByLabel("ユーザーID").fill(u.login);
  await page.getByLabel("パスワード", { exact: true }).fill(u.password);
  await page.getByRole("button", { name: "ログイン" }).click();
  const later = page.getByRole("button", { name: "あとで" });
  const list = page.getByRole("heading", { name: "トーク" });
  await later.or(list).first().waitFor();
  if (await later.isVisible()) await later.click();
  await list.waitFor();
}

/** Every RTCPeerConnection the page makes is kept in window.__pcs (for getStats). */
function watchPeers() {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
}

/** What the page's open peer connections received so far. */
function received(page) {
  return page.evaluate(async () => {
    const out = { frames: 0, audioPackets: 0, connected: 0, open: 0 };
    for (const pc of window.__pcs) {
      if (pc.connectionState === "closed") continue;
      out.open++;
      if (pc.connectionState === "connected") out.connected++;
      (await pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp") return;
        if (r.kind === "video") out.frames += r.framesDecoded ?? 0;
        if (r.kind === "audio") out.audioPackets += r.packetsReceived ?? 0;
      });
    }
    return out;
  });
}

/** Waits until `count` remote videos of the page play (a decoded picture of some size). */
async function remoteVideosPlay(page, count, selector = "video:not(.call-self):not(.mirror)") {
  try {
    await page.waitForFunction(
      ([sel, n]) => [...document.querySelectorAll(sel)].filter((v) => !v.muted && v.videoWidth > 0 && !v.paused).length >= n,
      [selector, count],
      { timeout: 30_000 },
    );
  } catch (e) {
    // Say where the links stood: signalling, ICE, and the candidates each side knows.
    const links = await page.evaluate(() =>
      Promise.all(
        window.__pcs.map(async (pc) => {
          const kinds = {};
          (await pc.getStats()).forEach((r) => (kinds[r.type] = (kinds[r.type] ?? 0) + 1));
          return `${pc.signalingState}/${pc.iceConnectionState}/${pc.connectionState} local=${pc.localDescription?.type} remote=${pc.remoteDescription?.type} ${JSON.stringify(kinds)}`;
        }),
      ),
    );
    throw new Error(`${e.message}\n  links: ${links.join("\n  ")}`);
  }
}

async function openConversation(page, name) {
  await page.getByRole("button", { name: new RegExp(name) }).first().click();
  await page.getByRole("heading", { name }).waitFor();
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout;
}

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  const dicomPort = await freePort();
  // The SFU's UDP port: a free one on loopback, so journeys can run beside another server.
  process.env.RENKEI_CALL_UDP_LISTEN = `127.0.0.1:${await freePort()}`;
  const server = await startServer(bin, ["--dicom-listen", `127.0.0.1:${dicomPort}`]);
  const { base } = server;
  log(`server at ${base}`);
  const only = (process.env.E2E_ONLY || "").split(",").filter(Boolean);
  const want = (n) => only.length === 0 || only.includes(n);
  const check = new Check();
  const work = mkdtempSync(join(tmpdir(), "renkei-e2e-calls-"));
  let browser;
  try {
    await firstAdmin(server);
    createUsers(bin, server, [A, B, C]);
    const a = await apiUser(base, A);
    const b = await apiUser(base, B);
    const c = await apiUser(base, C);
    const ab = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [b.id] })).id;
    await json(base, "POST", "/api/v1/conversations", c.token, { kind: "direct", member_ids: [b.id] });
    const group = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "group", title: GROUP, member_ids: [b.id, c.id] })).id;
    await json(base, "POST", `/api/v1/conversations/${ab}/messages`, a.token, { client_msg_id: "hello", body: "CTの件で相談させてください。" });
    await json(base, "POST", `/api/v1/conversations/${group}/messages`, a.token, { client_msg_id: "g-hello", body: "今夜の申し送りです。" });

    browser = await launchBrowser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required"]);
    const problems = [];
    const context = async (who) => {
      const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
      ctx.setDefaultTimeout(20_000);
      await ctx.addInitScript(watchPeers);
      const page = await ctx.newPage();
      page.on("pageerror", (e) => problems.push(`${who}: page error ${e.message}`));
      page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && problems.push(`${who}: ${m.text()}`));
      return page;
    };
    const pageA = await context("A");
    const pageB = await context("B");
    const pageC = await context("C");
    globalThis.openPages = [pageA, pageB, pageC];
    await signInJa(pageA, base, A);
    await signInJa(pageB, base, B);
    await signInJa(pageC, base, C);

    if (want("p2p")) await check.run("1:1 video call: rings, is answered, media flows both ways, mute shows, busy for a third caller, hang-up ends it for both", async () => {
      await openConversation(pageA, B.name);
      await pageA.getByRole("button", { name: "ビデオ通話" }).click();
      await pageA.getByText("呼び出し中…").waitFor();
      // B rings wherever B is in the app (here: the conversation list).
      const incoming = pageB.getByRole("alertdialog", { name: A.name });
      await incoming.waitFor();
      await incoming.getByText("ビデオ通話の着信").waitFor();
      await pageB.waitForTimeout(300);
      await pageB.screenshot({ path: join(shots, "call-incoming.png") });
      const tapped = Date.now();
      await incoming.getByRole("button", { name: "ビデオで応答" }).click();

      await Promise.all([remoteVideosPlay(pageA, 1), remoteVideosPlay(pageB, 1)]);
      log(`answer → remote video playing on both sides in ${Date.now() - tapped} ms`);
      for (const page of [pageA, pageB]) {
        const r = await received(page);
        assert(r.connected === 1 && r.open === 1, `one connected peer connection: ${JSON.stringify(r)}`);
      }
      const before = await Promise.all([received(pageA), received(pageB)]);
      await pageA.waitForTimeout(5_000);
      const after = await Promise.all([received(pageA), received(pageB)]);
      for (const [i, who] of ["A", "B"].entries()) {
        const fps = (after[i].frames - before[i].frames) / 5;
        log(`${who} decodes ${fps.toFixed(1)} frames/s, audio packets +${after[i].audioPackets - before[i].audioPackets}`);
        assert(after[i].frames > before[i].frames + 20, `${who}'s video frames rise: ${before[i].frames} → ${after[i].frames}`);
        assert(after[i].audioPackets > before[i].audioPackets + 50, `${who}'s audio packets rise: ${before[i].audioPackets} → ${after[i].audioPackets}`);
      }
      await pageA.getByRole("status").filter({ hasText: /^\d+:\d\d$/ }).waitFor();
      await pageA.screenshot({ path: join(shots, "call-1to1-video.png") });

      // A mutes: B sees it.
      await pageA.getByRole("button", { name: "ミュート", exact: true }).click();
      await pageB.locator(".call-badge", { hasText: "ミュート中" }).waitFor();
      await pageB.screenshot({ path: join(shots, "call-1to1-muted.png") });
      await pageA.getByRole("button", { name: "ミュート解除" }).click();
      await pageB.locator(".call-badge").waitFor({ state: "detached" });

      // C calls B, who is in a call with A: C reads "busy".
      await openConversation(pageC, B.name);
      await pageC.getByRole("button", { name: "音声通話" }).click();
      await pageC.getByText("話し中").waitFor();
      await pageC.screenshot({ path: join(shots, "call-ended-busy.png") });
      assert((await pageB.getByRole("alertdialog").count()) === 0, "B is not rung during the call");

      // The call folds into the bar over the chat, and comes back.
      await pageA.getByRole("button", { name: "トークに戻る" }).click();
      await pageA.getByRole("region", { name: "通話中" }).waitFor();
      await pageA.screenshot({ path: join(shots, "call-bar-over-chat.png") });
      await pageA.getByRole("button", { name: "通話に戻る" }).click();

      // A hangs up: B reads that the call ended, and both peer connections close.
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.screenshot({ path: join(shots, "call-ended-completed.png") });
      await pageA.locator(".call-screen").waitFor({ state: "detached" });
      for (const page of [pageA, pageB]) await page.waitForFunction(() => window.__pcs.every((pc) => pc.connectionState === "closed"));
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("decline")) await check.run("a declined call shows 拒否されました to the caller", async () => {
      if (!(await pageA.getByRole("heading", { name: B.name }).count())) await openConversation(pageA, B.name);
      await pageA.getByRole("button", { name: "音声通話" }).click();
      const incoming = pageB.getByRole("alertdialog", { name: A.name });
      await incoming.getByText("音声通話の着信").waitFor();
      await incoming.getByRole("button", { name: "拒否" }).click();
      await pageA.getByText("拒否されました").waitFor();
      await pageA.screenshot({ path: join(shots, "call-ended-declined.png") });
      await incoming.waitFor({ state: "detached" });
      await pageA.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("noanswer")) await check.run("a call nobody answers ends after 45 s: 応答なし for the caller, 不在着信 for the callee", async () => {
      if (!(await pageA.getByRole("heading", { name: B.name }).count())) await openConversation(pageA, B.name);
      await pageA.getByRole("button", { name: "音声通話" }).click();
      await pageB.getByRole("alertdialog", { name: A.name }).waitFor();
      await pageA.getByText("応答なし").waitFor({ timeout: 60_000 });
      await pageB.getByText("不在着信").waitFor();
      await pageA.screenshot({ path: join(shots, "call-ended-no-answer.png") });
      await pageA.getByRole("button", { name: "閉じる", exact: true }).click();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("shared")) await check.run("shared view: the follower's viewer shows the leader's slice and window, and the pointer; the follower takes over", async () => {
      cli(bin, server.dataDir, ["add-dicom-peer", "--org", "first", "--ae-title", "STORESCU", "--allow", "127.0.0.0/8"]);
      const dir = join(work, "ct");
      run("python3", [join(here, "fixtures", "ct_phantom.py"), dir, String(SLICES)]);
      run("storescu", ["-aet", "STORESCU", "-aec", "RENKEI", "127.0.0.1", String(dicomPort), "+sd", dir]);
      let study = null;
      for (let i = 0; i < 50 && !study; i++) {
        const list = await json(base, "GET", "/api/v1/studies", a.token);
        const items = Array.isArray(list) ? list : (list.items ?? list.studies ?? []);
        study = items.find((s) => (s.modalities ?? []).includes("CT")) ?? null;
        if (!study) await new Promise((ok) => setTimeout(ok, 200));
      }
      assert(study, "the CT reached A's inbox");
      await json(base, "POST", `/api/v1/conversations/${ab}/messages`, a.token, { client_msg_id: "ct", body: "胸部CTです。", attachments: [{ kind: "study", id: study.id }] });

      if (!(await pageA.getByRole("heading", { name: B.name }).count())) await openConversation(pageA, B.name);
      await pageA.getByRole("button", { name: "ビデオ通話" }).click();
      await pageB.getByRole("alertdialog", { name: A.name }).getByRole("button", { name: "ビデオで応答" }).click();
      await Promise.all([remoteVideosPlay(pageA, 1), remoteVideosPlay(pageB, 1)]);

      // A folds the call, opens the CT and shares it.
      await pageA.getByRole("button", { name: "トークに戻る" }).click();
      await pageA.locator(".msg").getByRole("button", { name: /ビューアで開く|Open in viewer/ }).last().click();
      await pageA.locator(".viewport-canvas[data-index]").waitFor();
      await pageA.getByRole("button", { name: "一緒に見る" }).click();
      await pageA.getByText("通話中の全員にこの画面を表示しています").waitFor();

      // B's viewer opens by itself and follows: slice, window and the pointer.
      await pageB.locator(".viewport-canvas[data-index]").waitFor();
      await pageB.getByText(`${A.name}さんの画面を表示中`).waitFor();
      const viewport = pageA.locator(".viewport");
      await viewport.focus();
      for (let i = 0; i < 4; i++) await pageA.keyboard.press("ArrowDown");
      await pageA.getByLabel("ウィンドウプリセット").selectOption("lung");
      await pageA.getByText("WW 1500 WL -600").waitFor();
      const box = await pageA.locator(".viewport-canvas").boundingBox();
      await pageA.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.45);
      await pageA.mouse.move(box.x + box.width * 0.42, box.y + box.height * 0.47);
      const leader = await pageA.evaluate(() => ({ index: document.querySelector(".viewport-canvas").dataset.index, wl: document.querySelector(".wl-readout")?.textContent }));
      await pageB.waitForFunction((i) => document.querySelector(".viewport-canvas")?.dataset.index === i, leader.index);
      await pageB.waitForFunction((wl) => document.querySelector(".wl-readout")?.textContent === wl, leader.wl);
      await pageB.waitForFunction(() => getComputedStyle(document.querySelector(".share-pointer")).display === "block");
      assert(leader.wl === "WW 1500 WL -600", `the leader's window: ${leader.wl}`);
      log(`B follows A: slice index ${leader.index}, ${leader.wl}`);
      await pageB.waitForTimeout(300);
      await pageB.screenshot({ path: join(shots, "call-shared-view-pointer.png") });

      // B takes over: A follows B.
      await pageB.getByRole("button", { name: "操作を代わる" }).click();
      await pageB.getByText("通話中の全員にこの画面を表示しています").waitFor();
      await pageB.locator(".viewport").focus();
      const indexOf = () => document.querySelector(".viewport-canvas").dataset.index;
      const before = Number(await pageB.evaluate(indexOf));
      for (let i = 0; i < 3; i++) await pageB.keyboard.press("ArrowUp");
      // Read B's slice once all three presses are applied (a read between two would name a
      // slice the throttle rightly skips).
      await pageB.waitForFunction((b) => Math.abs(Number(document.querySelector(".viewport-canvas").dataset.index) - b) === 3, before);
      const bIndex = await pageB.evaluate(indexOf);
      await pageA.getByText(`${B.name}さんの画面を表示中`).waitFor();
      await pageA.waitForFunction((i) => document.querySelector(".viewport-canvas")?.dataset.index === i, bIndex);
      await pageA.screenshot({ path: join(shots, "call-shared-view-took-over.png") });

      await pageA.locator(".call-bar").getByRole("button", { name: "終了" }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
      for (const page of [pageA, pageB]) await page.keyboard.press("Escape");
    });

    if (want("group")) await check.run("group call of three through the SFU: each receives the other two", async () => {
      for (const page of [pageA, pageB, pageC]) {
        await page.goto(base + "/");
        await page.getByRole("heading", { name: "トーク" }).waitFor();
      }
      await openConversation(pageA, GROUP);
      await pageA.getByRole("button", { name: "ビデオ通話" }).click();
      const refused = pageA.getByText("このサーバーではグループ通話を利用できません。").waitFor().then(() => "refused", () => null);
      const rang = pageB.getByRole("alertdialog").waitFor().then(() => "rang", () => null);
      assert((await Promise.race([refused, rang])) === "rang", "the server has no SFU wired (sfu_unavailable)");
      for (const page of [pageB, pageC]) await page.getByRole("alertdialog").getByRole("button", { name: "ビデオで応答" }).click();
      await Promise.all([pageA, pageB, pageC].map((p) => remoteVideosPlay(p, 2, ".call-tile:not(.mine) video")));
      await pageA.getByText("3人が参加中", { exact: false }).waitFor();
      await pageA.waitForTimeout(500);
      await pageA.screenshot({ path: join(shots, "call-group-grid.png") });
      const layers = await received(pageA);
      log(`group: A decodes ${layers.frames} frames so far over ${layers.open} link(s)`);
      await pageC.getByRole("button", { name: "終了", exact: true }).click();
      // The others go on.
      const before = await received(pageA);
      await pageA.waitForTimeout(2_000);
      assert((await received(pageA)).frames > before.frames, "A still receives after C left");
      // A leaves too: B, alone, reads that the call ended.
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    await check.run("no Content-Security-Policy violations or page errors", async () => {
      assert(problems.length === 0, problems.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  }
  log(`screenshots in ${shots}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return check;
}

finishJourneys(main);
