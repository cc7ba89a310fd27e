// Call journeys of issue 20 in the Japanese interface at phone size (390×844), with Chromium's
// fake camera and microphone: a 1:1 video call between two browser contexts (ringing, answer,
// media flowing both ways by getStats, mute seen on the other side, hang-up ending it for both),
// a declined call, a call nobody answers, looking at a CT together (the follower's viewer shows
// the leader's slice and window, and the pointer), a 3-person group call through the SFU, busy
// (the callee's own call goes on), a member removed from the group mid-call, a participant's
// page closing, an ICE restart when the network comes back, a dropped signalling socket that
// resumes its place in the call, a locked session (refused by the
// server; the ring comes in once unlocked), and a 1:1 call forced through coturn (relay
// candidates only; its own server and coturn on loopback; skipped loudly without coturn,
// failed under CI=true).
//
//   node e2e/calls.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Needs dcmtk (storescu) and pydicom for the shared view, coturn for the relay.
// E2E_ONLY=p2p,decline,noanswer,shared,group,busy,removed,pageclose,ice,resume,locked,relay runs
// some. Screenshots go to web/test-results/ (and SHOTS_DIR when set).

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverBinary, cli, firstAdmin, createUsers, startServer, stopServer, json, Check, assert, launchBrowser, results, log, freePort, here, finishJourneys, run } from "./harness.mjs";
import { A, B, C, D, MEDIA_FLAGS, apiUser, signInJa, callPage, received, framesRise, iceUfrags, selectedPairs, remoteVideosPlay, openConversation, coturnInstalled, startCoturn } from "./calls-helpers.mjs";

const shots = process.env.SHOTS_DIR || results;
mkdirSync(shots, { recursive: true });
const GROUP = "救急外来 夜勤";
/** The group whose owner removes a member during a call. */
const REVIEW = "放射線科 読影相談";
/** The other participants' tiles of a group call. */
const OTHER_TILES = ".call-tile:not(.mine)";
const SLICES = 24;


/** The 1:1 video call through TURN: its own coturn on loopback and its own server handing out
 *  coturn credentials (RENKEI_TURN_URLS, RENKEI_TURN_SECRET), and two contexts whose peer
 *  connections take relay candidates only (`iceTransportPolicy: "relay"`, set by the journeys'
 *  init script, not by the app). */
async function relayCall(bin, browser, problems) {
  const secret = "turn shared secret of the call journeys";
  const turn = await startCoturn(secret);
  let server;
  const pages = [];
  try {
    server = await startServer(bin, [], { RENKEI_CALL_UDP_LISTEN: "127.0.0.1:0", RENKEI_TURN_URLS: JSON.stringify([turn.url]), RENKEI_TURN_SECRET: secret });
    const { base } = server;
    await firstAdmin(server);
    createUsers(bin, server, [A, B]);
    const a = await apiUser(base, A);
    const b = await apiUser(base, B);
    const ab = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [b.id] })).id;
    await json(base, "POST", `/api/v1/conversations/${ab}/messages`, a.token, { client_msg_id: "hello", body: "病棟のWi-Fiからです。" });
    const creds = await json(base, "GET", "/api/v1/calls/turn", a.token);
    assert(JSON.stringify(creds.urls) === JSON.stringify([turn.url]), `the server hands out our coturn: ${JSON.stringify(creds.urls)}`);

    const pageA = await callPage(browser, "A (relay)", problems, { relay: true });
    const pageB = await callPage(browser, "B (relay)", problems, { relay: true });
    pages.push(pageA, pageB);
    globalThis.openPages = [...(globalThis.openPages ?? []), pageA, pageB];
    await signInJa(pageA, base, A);
    await signInJa(pageB, base, B);
    await openConversation(pageA, B.name);
    await pageA.getByRole("button", { name: "ビデオ通話" }).click();
    const incoming = pageB.getByRole("alertdialog", { name: A.name });
    await incoming.getByRole("button", { name: "ビデオで応答" }).click();
    await Promise.all([remoteVideosPlay(pageA, 1), remoteVideosPlay(pageB, 1)]);

    for (const [who, page] of [["A", pageA], ["B", pageB]]) {
      const pairs = await selectedPairs(page);
      log(`${who}'s selected pair: ${JSON.stringify(pairs)}`);
      assert(pairs.length === 1 && pairs[0], `${who} has one link with a selected candidate pair: ${JSON.stringify(pairs)}`);
      assert(pairs[0].local === "relay" || pairs[0].remote === "relay", `${who}'s selected pair goes through the relay: ${JSON.stringify(pairs[0])}`);
    }
    const before = await Promise.all([received(pageA), received(pageB)]);
    await pageA.waitForTimeout(5_000);
    const after = await Promise.all([received(pageA), received(pageB)]);
    for (const [i, who] of ["A", "B"].entries()) {
      log(`${who} decodes ${((after[i].frames - before[i].frames) / 5).toFixed(1)} frames/s through coturn, audio packets +${after[i].audioPackets - before[i].audioPackets}`);
      assert(after[i].frames > before[i].frames + 20, `${who}'s video frames rise: ${before[i].frames} → ${after[i].frames}`);
    }
    await pageA.screenshot({ path: join(shots, "call-1to1-relay.png") });

    await pageA.getByRole("button", { name: "終了", exact: true }).click();
    await pageB.getByText("通話終了").waitFor();
    for (const page of [pageA, pageB]) await page.waitForFunction(() => window.__pcs.every((pc) => pc.connectionState === "closed"));
  } catch (e) {
    const tail = turn.log().trim().split("\n").slice(-15).join("\n  ");
    e.message += `\n  coturn's log ends:\n  ${tail}`;
    throw e;
  } finally {
    for (const page of pages) await page.context().close();
    if (server) await stopServer(server);
    await turn.stop();
  }
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
    createUsers(bin, server, [A, B, C, D]);
    const a = await apiUser(base, A);
    const b = await apiUser(base, B);
    const c = await apiUser(base, C);
    const d = await apiUser(base, D);
    await json(base, "PUT", "/api/v1/me/passcode", d.token, { passcode: D.passcode });
    await json(base, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [d.id] });
    const review = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "group", title: REVIEW, member_ids: [b.id, c.id] })).id;
    const ab = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [b.id] })).id;
    await json(base, "POST", "/api/v1/conversations", c.token, { kind: "direct", member_ids: [b.id] });
    const group = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "group", title: GROUP, member_ids: [b.id, c.id] })).id;
    await json(base, "POST", `/api/v1/conversations/${ab}/messages`, a.token, { client_msg_id: "hello", body: "CTの件で相談させてください。" });
    await json(base, "POST", `/api/v1/conversations/${group}/messages`, a.token, { client_msg_id: "g-hello", body: "今夜の申し送りです。" });

    browser = await launchBrowser(MEDIA_FLAGS);
    const problems = [];
    const context = (who) => callPage(browser, who, problems);
    const pageA = await context("A");
    const pageB = await context("B");
    const pageC = await context("C");
    globalThis.openPages = [pageA, pageB, pageC];
    await signInJa(pageA, base, A);
    await signInJa(pageB, base, B);
    await signInJa(pageC, base, C);
    /** Back to the list of conversations (the journeys leave pages where they ended). */
    const toList = (...pages) =>
      Promise.all(pages.map(async (page) => {
        await page.goto(base + "/");
        await page.getByRole("heading", { name: "トーク" }).waitFor();
      }));
    /** Whether `page` shows a call's end (the timeline's 通話終了 lines do not count). */
    const callEnded = async (page) => (await page.locator(".call-ended").count()) > 0;
    /** `page` shows `n` other participants' tiles, and the count of people in the call. */
    const tiles = async (page, n) => {
      await page.waitForFunction(([sel, k]) => document.querySelectorAll(sel).length === k, [OTHER_TILES, n]);
      await page.getByText(`${n + 1}人が参加中`, { exact: false }).waitFor();
    };

    if (want("p2p")) await check.run("1:1 video call: rings, is answered, media flows both ways, mute shows, hang-up ends it for both", async () => {
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
      // The others go on (B's video still decoded by A; C's stream leaves A's totals).
      const went = await framesRise(pageA);
      log(`after C left, A decoded 15 more frames of B's in ${went.ms} ms`);
      // A leaves too: B, alone, reads that the call ended.
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });


    if (want("busy")) await check.run("busy: A calls B while B talks with C: A reads 話し中, B is not rung and B's call goes on", async () => {
      await toList(pageA, pageB, pageC);
      await openConversation(pageC, B.name);
      await pageC.getByRole("button", { name: "ビデオ通話" }).click();
      await pageB.getByRole("alertdialog", { name: C.name }).getByRole("button", { name: "ビデオで応答" }).click();
      await Promise.all([remoteVideosPlay(pageB, 1), remoteVideosPlay(pageC, 1)]);
      await openConversation(pageA, B.name);
      await pageA.getByRole("button", { name: "音声通話" }).click();
      await pageA.getByRole("dialog", { name: "話し中" }).waitFor();
      await pageA.screenshot({ path: join(shots, "call-ended-busy.png") });
      assert((await pageB.getByRole("alertdialog").count()) === 0, "B is not rung during the call");
      // B's call with C goes on: video still decoded on both sides, no end shown.
      await Promise.all([framesRise(pageB), framesRise(pageC)]);
      assert(!(await callEnded(pageB)), "B's call did not end");
      await pageA.getByRole("button", { name: "閉じる", exact: true }).click();
      await pageC.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("removed")) await check.run("a member removed from the group mid-call: their call ends at once (この通話から外れました), the others go on", async () => {
      await toList(pageA, pageB, pageC);
      await openConversation(pageA, REVIEW);
      await pageA.getByRole("button", { name: "ビデオ通話" }).click();
      for (const page of [pageB, pageC]) await page.getByRole("alertdialog").getByRole("button", { name: "ビデオで応答" }).click();
      await Promise.all([pageA, pageB, pageC].map((p) => remoteVideosPlay(p, 2, `${OTHER_TILES} video`)));
      // A, the group's owner, removes C from the conversation.
      await json(base, "DELETE", `/api/v1/conversations/${review}/members/${c.id}`, a.token);
      // C reads that they are out of the call, under the group's name (though C lost the group).
      await pageC.getByRole("dialog", { name: "この通話から外れました" }).getByRole("heading", { name: REVIEW }).waitFor();
      await pageC.waitForFunction(() => window.__pcs.every((pc) => pc.connectionState === "closed"));
      await pageC.screenshot({ path: join(shots, "call-ended-removed.png") });
      // C closes it (an ended call's screen also goes by itself after 6 s).
      await pageC.getByRole("button", { name: "閉じる", exact: true }).click();
      // A and B: C's tile goes, and they still see each other.
      await Promise.all([tiles(pageA, 1), tiles(pageB, 1)]);
      await Promise.all([framesRise(pageA), framesRise(pageB)]);
      await pageA.screenshot({ path: join(shots, "call-group-after-removal.png") });
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("pageclose")) await check.run("a participant's page closes mid-call: the other two keep seeing each other, and its tile goes", async () => {
      await toList(pageA, pageB);
      const pageC2 = await context("C (closing)");
      await signInJa(pageC2, base, C);
      await openConversation(pageA, GROUP);
      await pageA.getByRole("button", { name: "ビデオ通話" }).click();
      for (const page of [pageB, pageC2]) await page.getByRole("alertdialog").getByRole("button", { name: "ビデオで応答" }).click();
      await Promise.all([pageA, pageB, pageC2].map((p) => remoteVideosPlay(p, 2, `${OTHER_TILES} video`)));
      await pageC2.close();
      await pageC2.context().close();
      await Promise.all([tiles(pageA, 1), tiles(pageB, 1)]);
      await Promise.all([framesRise(pageA), framesRise(pageB)]);
      assert(!(await callEnded(pageA)) && !(await callEnded(pageB)), "the call goes on for A and B");
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("ice")) await check.run("the network comes back (online): ICE restarts on the link, the call is not hung up and video keeps flowing", async () => {
      await toList(pageA, pageB);
      await openConversation(pageA, B.name);
      await pageA.getByRole("button", { name: "ビデオ通話" }).click();
      await pageB.getByRole("alertdialog", { name: A.name }).getByRole("button", { name: "ビデオで応答" }).click();
      await Promise.all([remoteVideosPlay(pageA, 1), remoteVideosPlay(pageB, 1)]);
      const before = await Promise.all([iceUfrags(pageA), iceUfrags(pageB)]);
      // What the browser says when the network is back (or changed): the app restarts ICE.
      await pageA.evaluate(() => window.dispatchEvent(new Event("online")));
      for (const [i, page] of [pageA, pageB].entries()) {
        await page.waitForFunction(
          (old) => {
            const open = window.__pcs.filter((pc) => pc.connectionState !== "closed");
            const ufrag = /a=ice-ufrag:(\S+)/.exec(open[0]?.localDescription?.sdp ?? "")?.[1];
            return open.length === 1 && ufrag && ufrag !== old && open[0].connectionState === "connected" && open[0].signalingState === "stable";
          },
          before[i][0],
        );
      }
      const after = await Promise.all([iceUfrags(pageA), iceUfrags(pageB)]);
      log(`ICE restarted: A ${before[0]} → ${after[0]}, B ${before[1]} → ${after[1]}`);
      await Promise.all([framesRise(pageA), framesRise(pageB)]);
      assert(!(await callEnded(pageA)) && !(await callEnded(pageB)), "the call was not hung up");
      for (const page of [pageA, pageB]) await page.getByRole("dialog").getByRole("status").filter({ hasText: /^\d+:\d\d$/ }).waitFor();
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("resume")) await check.run("the network drops the signalling socket mid-call: both sides show 再接続中…, the socket resumes its place, the call is not hung up and video flows again", async () => {
      await toList(pageA, pageB);
      await openConversation(pageA, B.name);
      await pageA.getByRole("button", { name: "ビデオ通話" }).click();
      await pageB.getByRole("alertdialog", { name: A.name }).getByRole("button", { name: "ビデオで応答" }).click();
      await Promise.all([remoteVideosPlay(pageA, 1), remoteVideosPlay(pageB, 1)]);
      // B's network goes: the app closes its WebSocket at once (the browser says offline).
      await pageB.context().setOffline(true);
      const reconnecting = (page) => page.getByRole("dialog").getByRole("status").filter({ hasText: "再接続中…" }).waitFor();
      // B sees itself reconnecting; A sees B's place waiting, not a hang-up.
      await Promise.all([reconnecting(pageB), reconnecting(pageA)]);
      await pageB.screenshot({ path: join(shots, "call-reconnecting-self.png") });
      await pageA.screenshot({ path: join(shots, "call-reconnecting-peer.png") });
      await pageB.waitForTimeout(2_000);
      assert(!(await callEnded(pageA)) && !(await callEnded(pageB)), "the call was not hung up while B was away");
      await pageB.context().setOffline(false);
      // B's new socket takes its place back and the link is negotiated anew.
      for (const page of [pageA, pageB]) {
        await page.waitForFunction(() => {
          const open = window.__pcs.filter((pc) => pc.connectionState !== "closed");
          return open.length === 1 && open[0].connectionState === "connected";
        }, null, { timeout: 20_000 });
      }
      await Promise.all([remoteVideosPlay(pageA, 1), remoteVideosPlay(pageB, 1)]);
      await Promise.all([framesRise(pageA), framesRise(pageB)]);
      assert(!(await callEnded(pageA)) && !(await callEnded(pageB)), "the call was not hung up");
      for (const page of [pageA, pageB]) await page.getByRole("dialog").getByRole("status").filter({ hasText: /^\d+:\d\d$/ }).waitFor();
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageB.getByText("通話終了").waitFor();
      await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
    });

    if (want("locked")) await check.run("a locked session: the server refuses its socket (no ring, no call, no join); the call rings in once unlocked; locking while it rings does not decline it", async () => {
      const pageD = await context("D (locked)");
      // D's page runs on a clock the journey can move (for the idle lock below).
      await pageD.clock.install();
      // D has a passcode: signing in leaves the session locked until the passcode is typed.
      await pageD.goto(base + "/");
      await pageD.getByLabel("ユーザーID").fill(D.login);
      await pageD.getByLabel("パスワード", { exact: true }).fill(D.password);
      await pageD.getByRole("button", { name: "ログイン" }).click();
      await pageD.getByRole("heading", { name: "ロック中" }).waitFor();
      // The locked session gets no data and no socket: it can neither ring nor answer.
      const refused = await pageD.evaluate(async () => {
        const api = (await fetch("/api/v1/conversations")).status;
        const ws = await new Promise((ok) => {
          const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
          socket.onopen = () => socket.send(JSON.stringify({ type: "hello" }));
          const frames = [];
          socket.onmessage = (e) => frames.push(JSON.parse(e.data));
          socket.onclose = (e) => ok({ code: e.code, frames });
        });
        return { api, ws };
      });
      log(`locked session: API ${refused.api}, socket closed ${refused.ws.code} after ${JSON.stringify(refused.ws.frames)}`);
      assert(refused.api === 423, `the API answers 423 to a locked session: ${refused.api}`);
      assert(refused.ws.code === 4023, `the socket of a locked session is closed as locked: ${refused.ws.code}`);
      assert(refused.ws.frames.every((f) => f.type !== "welcome" && f.type !== "call"), `no welcome and no call reach it: ${JSON.stringify(refused.ws.frames)}`);

      // A calls D: nothing of the call shows behind D's lock screen.
      await toList(pageA);
      await openConversation(pageA, D.name);
      await pageA.getByRole("button", { name: "音声通話" }).click();
      await pageA.getByText("呼び出し中…").waitFor();
      await pageD.waitForTimeout(1_000);
      assert((await pageD.getByRole("alertdialog").count()) === 0, "no ring shows on the lock screen");
      assert(!(await pageD.content()).includes(A.name), "the caller's name does not show behind the lock");
      await pageD.screenshot({ path: join(shots, "call-locked-no-ring.png") });

      // D unlocks within the ring: the call rings in, and D answers.
      await pageD.getByLabel("パスコード").fill(D.passcode);
      await pageD.getByRole("button", { name: "ロック解除" }).click();
      const incoming = pageD.getByRole("alertdialog", { name: A.name });
      await incoming.getByRole("button", { name: "音声で応答" }).click();
      await pageA.getByRole("status").filter({ hasText: /^\d+:\d\d$/ }).waitFor();
      await pageA.getByRole("button", { name: "終了", exact: true }).click();
      await pageD.getByText("通話終了").waitFor();
      await pageD.getByRole("button", { name: "閉じる", exact: true }).click();

      // A calls again, and D's app locks by itself (10 idle minutes) while it rings: the lock
      // does not decline for D (A still reads 呼び出し中), and it rings again once unlocked.
      await pageA.getByRole("button", { name: "音声通話" }).click();
      await pageD.getByRole("alertdialog", { name: A.name }).waitFor();
      await pageD.clock.fastForward("10:05");
      await pageD.getByRole("heading", { name: "ロック中" }).waitFor();
      await pageA.waitForTimeout(1_000);
      assert(!(await callEnded(pageA)), "the call is not declined when D's app locks");
      assert(await pageA.getByText("呼び出し中…").isVisible(), "A's call still rings");
      await pageD.getByLabel("パスコード").fill(D.passcode);
      await pageD.getByRole("button", { name: "ロック解除" }).click();
      await pageD.getByRole("alertdialog", { name: A.name }).getByRole("button", { name: "拒否" }).click();
      await pageA.getByText("拒否されました").waitFor();
      await pageA.getByRole("button", { name: "閉じる", exact: true }).click();
      await pageD.context().close();
    });

    if (want("relay")) {
      const name = "1:1 video call forced through coturn (relay candidates only): the selected pairs are relayed, video flows both ways, hang-up ends it";
      if (coturnInstalled()) await check.run(name, () => relayCall(bin, browser, problems));
      else if (process.env.CI === "true") await check.run(name, () => assert(false, "coturn is required under CI (scripts/setup.sh installs it)"));
      else log("SKIPPED: the call through TURN: coturn's turnserver is not installed (scripts/setup.sh installs it)");
    }

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
