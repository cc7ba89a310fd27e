// End-to-end journeys of annotations and comparison, on two phones (390×844) in Japanese:
// a CT sent by storescu is annotated (arrow, circle, text, length), saved in the study as a
// presentation state, sent as a key image; the other phone sees the key image with its
// annotations and a tap opens the viewer at that frame with them; then the same patient's prior
// CT is compared side by side, linked: scrolling one scrolls the other.
//
//   node e2e/annotate.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Needs dcmtk (storescu) and pydicom (scripts/setup.sh). E2E_ONLY=keyimage,compare runs some.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverBinary, cli, startServer, stopServer, firstAdmin, createUsers, Check, assert, launchBrowser, results, log, signIn, replaceOneTimePassword, freePort, here, pageJson, finishJourneys, run } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const A = { login: "kato", name: "加藤 美咲", kana: "かとう みさき", profession: "radiology_technologist", first: "Onetime-A-456", password: "A-strong-password-2" };
const B = { login: "mori", name: "森 健一", kana: "もり けんいち", profession: "doctor", first: "Onetime-B-456", password: "B-strong-password-2" };
const SLICES = 40;


/** Signs in a fresh user (one-time password replaced, passcode declined), then in Japanese. */
async function firstSignIn(page, base, user) {
  await signIn(page, base, user, user.first);
  await replaceOneTimePassword(page, user);
  await page.getByRole("heading", { name: "Set a passcode" }).waitFor();
  await page.getByRole("button", { name: "Not now" }).click();
  await page.getByRole("heading", { name: "Conversations" }).waitFor();
  await page.evaluate(() => localStorage.setItem("renkei.lang", "ja"));
  await page.reload();
  await page.getByRole("heading", { name: "トーク" }).waitFor();
}

async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 6 });
  await page.mouse.up();
}

/** Sends a generated CT of `slices` slices dated `date` with storescu. */
function sendCt(work, port, name, date) {
  const dir = join(work, name);
  run("python3", [join(here, "fixtures", "ct_phantom.py"), dir, String(SLICES), date]);
  run("storescu", ["-aet", "STORESCU", "-aec", "RENKEI", "127.0.0.1", String(port), "+sd", dir]);
}

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  const dicomPort = await freePort();
  const server = await startServer(bin, ["--dicom-listen", `127.0.0.1:${dicomPort}`]);
  const { base } = server;
  const only = (process.env.E2E_ONLY || "").split(",").filter(Boolean);
  const want = (n) => only.length === 0 || only.includes(n);
  const check = new Check();
  const work = mkdtempSync(join(tmpdir(), "renkei-e2e-annotate-"));
  let browser;
  try {
    await firstAdmin(server);
    createUsers(bin, server, [A, B]);
    cli(bin, server.dataDir, ["add-dicom-peer", "--org", "first", "--ae-title", "STORESCU", "--allow", "127.0.0.0/8"]);
    browser = await launchBrowser();
    const problems = [];
    const phone = async (who) => {
      const ctx = await browser.newContext({ viewport: PHONE, locale: "en-US", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
      ctx.setDefaultTimeout(20_000);
      const page = await ctx.newPage();
      page.on("pageerror", (e) => problems.push(`${who}: page error ${e.message}`));
      page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && problems.push(`${who}: ${m.text()}`));
      return page;
    };
    const pageA = await phone("A");
    const pageB = await phone("B");
    globalThis.openPages = [pageA, pageB];
    await firstSignIn(pageA, base, A);
    await firstSignIn(pageB, base, B);
    const bUser = (await pageB.evaluate(async () => (await fetch("/api/v1/me")).json())).user;
    await pageJson(pageA, "POST", "/api/v1/conversations", { kind: "direct", member_ids: [bUser.id] });
    await pageB.getByRole("button", { name: new RegExp(A.name) }).waitFor();
    sendCt(work, dicomPort, "now", "20261125");

    if (want("keyimage")) await check.run("annotation journey: arrow, circle, text and length on a frame, sent as a key image; the other phone opens it at that frame", async () => {
      await pageA.getByRole("button", { name: "画像" }).click();
      const row = pageA.locator(".study-row", { hasText: "CT CHEST" }).first();
      await row.waitFor();
      await row.getByRole("button", { name: "開く", exact: true }).click();
      const viewer = pageA.getByRole("dialog", { name: /CT · CHEST/ });
      await viewer.waitFor();
      await pageA.locator(".viewport-canvas[data-index]").waitFor();
      // Scroll five slices on: the annotations belong to that frame.
      const frameIndex = String(await scrollSlices(pageA, viewer.locator(".viewport"), pageA.locator(".viewport-canvas"), 5));
      const box = await pageA.locator(".viewport-canvas").boundingBox();
      const at = (fx, fy) => ({ x: box.x + box.width * fx, y: box.y + box.height * fy });
      await viewer.getByRole("button", { name: "矢印", exact: true }).click();
      await drag(pageA, at(0.25, 0.25), at(0.42, 0.42));
      await viewer.getByRole("button", { name: "円", exact: true }).click();
      await drag(pageA, at(0.45, 0.4), at(0.65, 0.58));
      await viewer.getByRole("button", { name: "計測", exact: true }).click();
      await drag(pageA, at(0.2, 0.7), at(0.6, 0.7));
      await viewer.getByRole("button", { name: "文字", exact: true }).click();
      await pageA.mouse.click(at(0.15, 0.2).x, at(0.15, 0.2).y);
      await viewer.getByLabel("画像に書く文字").fill("右肺の結節");
      await viewer.getByRole("button", { name: "配置" }).click();
      await viewer.getByText("未保存 4件").waitFor();
      await pageA.waitForTimeout(200);
      await pageA.screenshot({ path: join(results, "annotate-drawn-phone-ja.png") });
      await viewer.getByRole("button", { name: "保存" }).click();
      await viewer.getByText("注釈は検査に保存済み").waitFor();
      const saved = await pageA.evaluate(async () => {
        const id = (await (await fetch("/api/v1/studies")).json())[0].id;
        return (await fetch(`/api/v1/studies/${id}/annotations`)).json();
      });
      assert(saved.length === 1 && saved[0].shapes.map((s) => s.kind).sort().join() === "arrow,ellipse,length,text", `stored ${JSON.stringify(saved)}`);

      // Sent as a key image: timed from the tap on "send" in the sheet to the drawn thumbnail on B.
      await pageB.getByRole("button", { name: new RegExp(A.name) }).click();
      await viewer.getByRole("button", { name: "キー画像として送る" }).click();
      const sheet = pageA.getByRole("dialog", { name: "キー画像" });
      await sheet.getByText(B.name).click();
      await sheet.getByLabel(/メッセージ/).fill("この結節をご確認ください");
      const t0 = Date.now();
      await sheet.getByRole("button", { name: "共有する", exact: true }).click();
      const keyImage = pageB.locator(".msg.theirs .key-image canvas.drawn");
      await keyImage.waitFor();
      const ms = Date.now() - t0;
      log(`first annotated key image on the other phone ${ms} ms after sending (loopback)`);
      assert((await keyImage.getAttribute("data-shapes")) === "4", "the key image draws the four shapes");
      await pageB.waitForTimeout(200);
      await pageB.screenshot({ path: join(results, "annotate-key-image-chat-phone-ja.png") });
      await pageA.screenshot({ path: join(results, "annotate-key-image-sent-phone-ja.png") });

      // B taps it: the viewer opens at that frame with the annotations.
      await pageB.locator(".msg.theirs .key-image").click();
      const viewerB = pageB.getByRole("dialog", { name: /CT · CHEST/ });
      await viewerB.waitFor();
      await pageB.waitForFunction((i) => document.querySelector(".viewport-canvas")?.dataset.index === i, frameIndex);
      await viewerB.getByText(`${Number(frameIndex) + 1}`, { exact: false }).first().waitFor();
      await viewerB.getByText("注釈は検査に保存済み").waitFor().catch(() => undefined);
      await pageB.waitForTimeout(300);
      await pageB.screenshot({ path: join(results, "annotate-key-image-opened-phone-ja.png") });
      await pageB.goBack();
      await viewerB.waitFor({ state: "detached" });
    });

    if (want("compare")) await check.run("comparison journey: a prior CT of the same patient side by side, linked scrolling", async () => {
      sendCt(work, dicomPort, "prior", "20250601");
      await pageA.goto(base + "/");
      await pageA.getByRole("button", { name: "画像" }).click();
      const rows = pageA.locator(".study-row", { hasText: "CT CHEST" });
      await pageA.waitForFunction(() => document.querySelectorAll(".study-row").length >= 2, null, { timeout: 60_000 }).catch(async () => {
        await pageA.reload();
        await pageA.getByRole("button", { name: "画像" }).click();
      });
      await rows.nth(1).waitFor();
      // Newest arrival first: the prior (sent second) is on top; open the current study below it.
      await rows.nth(1).getByRole("button", { name: "開く", exact: true }).click();
      const viewer = pageA.getByRole("dialog", { name: /CT · CHEST/ });
      await viewer.waitFor();
      await pageA.locator(".viewport-canvas[data-index]").waitFor();
      await viewer.getByRole("button", { name: "比較" }).click();
      const picker = pageA.getByRole("dialog", { name: "比較する画像" });
      await picker.getByText("過去の検査").waitFor();
      // Dates are shifted per patient by de-identification: the prior is the one listed under "過去の検査".
      await picker.locator("li button").last().click();
      await pageA.locator(".compare-pane").nth(1).locator(".viewport-canvas[data-index]").waitFor();
      await pageA.locator(".compare-pane").nth(0).locator(".viewport-canvas[data-index]").waitFor();
      const index = (n) => pageA.locator(".compare-pane").nth(n).locator(".viewport-canvas").getAttribute("data-index");
      // Linked (the default): five slices down in the top pane moves the bottom one too.
      const top = pageA.locator(".compare-pane").nth(0);
      const before = [await index(0), await index(1)];
      await scrollSlices(pageA, top.locator(".viewport"), top.locator(".viewport-canvas"), 5);
      await pageA
        .waitForFunction(
          ([t]) => Number(document.querySelectorAll(".compare-pane .viewport-canvas")[1]?.dataset.index) === t,
          [Number(before[0]) + 5],
          { timeout: 15_000 },
        )
        .catch(() => {});
      const after = [await index(0), await index(1)];
      assert(Number(after[0]) === Number(before[0]) + 5, `top pane scrolled ${before[0]} → ${after[0]}`);
      assert(after[1] === after[0], `the same-length prior follows: ${after[1]} vs ${after[0]}`);
      const boxes = await pageA.locator(".compare-pane").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
      assert(boxes[1].top >= boxes[0].bottom - 1, "stacked vertically on a phone");
      await pageA.waitForTimeout(300);
      await pageA.screenshot({ path: join(results, "compare-linked-phone-ja.png") });
      // Unlinked: the bottom pane stays.
      await viewer.getByRole("button", { name: "連動" }).click();
      for (let i = 0; i < 3; i++) await top.locator(".viewport").press("ArrowDown");
      await pageA.waitForTimeout(300);
      assert((await index(1)) === after[1], "unlinked, the other pane stays");
      // Desktop width: side by side.
      await pageA.setViewportSize({ width: 1280, height: 800 });
      await pageA.waitForTimeout(300);
      const wide = await pageA.locator(".compare-pane").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
      assert(wide[1].left >= wide[0].right - 1, "side by side on a wide screen");
      await pageA.screenshot({ path: join(results, "compare-desktop-ja.png") });
      await pageA.setViewportSize(PHONE);
    });

    await check.run("no CSP violations or page errors", async () => {
      assert(problems.length === 0, problems.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  }
  log(`screenshots in ${results}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return check;
}

finishJourneys(main);

/** Presses ArrowDown `n` times on `viewport`, then waits until `canvas` shows the slice `n` on
 * (a slice is drawn once its pixels are in, which can lag the presses on a loaded machine);
 * returns that slice's index. */
async function scrollSlices(page, viewport, canvas, n) {
  const start = Number(await canvas.getAttribute("data-index"));
  for (let i = 0; i < n; i++) await viewport.press("ArrowDown");
  const handle = await canvas.elementHandle();
  await page.waitForFunction(([el, want]) => Number(el.dataset.index) === want, [handle, start + n], { timeout: 20_000 });
  return start + n;
}
