// End-to-end journeys of imaging and attachments: a CT series sent by dcmtk's storescu reaches
// the image inbox, is shared into a conversation and read in the viewer (scroll, window/level,
// measurement); pydicom's 12-lead ECG is drawn; a photo with GPS EXIF arrives without it;
// mentions, edits, deletions; media and studies show as expired after the retention period.
//
//   node e2e/viewer.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Needs dcmtk (storescu) and pydicom (scripts/setup.sh). E2E_ONLY=ct,ecg,photo runs some.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverBinary, cli, startServer, stopServer, firstAdmin, createUsers, Check, assert, launchBrowser, results, log, signIn, replaceOneTimePassword, freePort, here, pageJson, finishJourneys } from "./harness.mjs";

const PHONE = { width: 360, height: 640 };
const DESKTOP = { width: 1280, height: 800 };
const A = { login: "kato", name: "加藤 美咲", kana: "かとう みさき", profession: "radiology_technologist", first: "Onetime-A-456", password: "A-strong-password-2" };
const B = { login: "mori", name: "森 健一", kana: "もり けんいち", profession: "doctor", first: "Onetime-B-456", password: "B-strong-password-2" };
// 300 slices take minutes to send to a debug build on a busy machine; E2E_CT_SLICES=300 for the
// full-size figure (docs/BENCHMARKS.md).
const SLICES = Number(process.env.E2E_CT_SLICES || 120);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout;
}

function pydicomFile(name) {
  const dir = run("python3", ["-c", "import pydicom,os;print(os.path.dirname(pydicom.__file__))"]).trim();
  return join(dir, "data", "test_files", name);
}

/** A JPEG photo with an EXIF block: camera make and GPS latitude/longitude. */
function withGpsExif(jpeg) {
  const le16 = (v) => [v & 0xff, v >> 8];
  const le32 = (v) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
  const entry = (tag, type, count, value) => [...le16(tag), ...le16(type), ...le32(count), ...value];
  const rationals = (pairs) => pairs.flatMap(([n, d]) => [...le32(n), ...le32(d)]);
  const make = [...Buffer.from("RenkeiCam\0")];
  // TIFF header (8) | IFD0 at 8: 2 entries (30) | Make at 38 (10) | GPS IFD at 48: 4 entries (54) | rationals at 102, 126
  const tiff = [
    0x49, 0x49, 0x2a, 0x00, ...le32(8),
    ...le16(2), ...entry(0x010f, 2, make.length, le32(38)), ...entry(0x8825, 4, 1, le32(48)), ...le32(0),
    ...make,
    ...le16(4),
    ...entry(0x0001, 2, 2, [0x4e, 0, 0, 0]), ...entry(0x0002, 5, 3, le32(102)),
    ...entry(0x0003, 2, 2, [0x45, 0, 0, 0]), ...entry(0x0004, 5, 3, le32(126)),
    ...le32(0),
    ...rationals([[35, 1], [41, 1], [2200, 100]]),
    ...rationals([[139, 1], [41, 1], [3000, 100]]),
  ];
  const body = [...Buffer.from("Exif\0\0"), ...tiff];
  const app1 = Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

/** Signs in a fresh user: one-time password replaced, passcode declined, on the list. */
async function firstSignIn(page, base, user) {
  await signIn(page, base, user, user.first);
  await replaceOneTimePassword(page, user);
  await page.getByRole("heading", { name: "Set a passcode" }).waitFor();
  await page.getByRole("button", { name: "Not now" }).click();
  await page.getByRole("heading", { name: "Conversations" }).waitFor();
}

/** A cheap fingerprint of what the canvas shows. */
function canvasHash(page) {
  return page.evaluate(() => {
    const c = document.querySelector(".viewport-canvas");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 4 * 13) h = (Math.imul(h, 31) + d[i]) >>> 0;
    return h;
  });
}

async function canvasBox(page) {
  const box = await page.locator(".viewport-canvas").boundingBox();
  return { ...box, cx: box.x + box.width / 2, cy: box.y + box.height / 2 };
}

async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.mouse.up();
}

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  const dicomPort = await freePort();
  const server = await startServer(bin, ["--dicom-listen", `127.0.0.1:${dicomPort}`]);
  const { base } = server;
  log(`server at ${base}, DICOM at 127.0.0.1:${dicomPort}, data in ${server.dataDir}`);
  const only = (process.env.E2E_ONLY || "").split(",").filter(Boolean);
  const want = (n) => only.length === 0 || only.includes(n);
  const check = new Check();
  const work = mkdtempSync(join(tmpdir(), "renkei-e2e-dicom-"));
  let browser;
  try {
    await firstAdmin(server);
    createUsers(bin, server, [A, B]);
    cli(bin, server.dataDir, ["add-dicom-peer", "--org", "first", "--ae-title", "STORESCU", "--allow", "127.0.0.0/8"]);

    browser = await launchBrowser();
    const problems = [];
    const watch = (page, who) => {
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(`${who}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`${who}: page error ${e.message}`));
    };
    const ctxA = await browser.newContext({ viewport: PHONE, locale: "en-US", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    const ctxB = await browser.newContext({ viewport: DESKTOP, locale: "en-US", timezoneId: "Asia/Tokyo" });
    for (const ctx of [ctxA, ctxB]) ctx.setDefaultTimeout(20_000);
    const pageA = await ctxA.newPage();
    const pageB = await ctxB.newPage();
    watch(pageA, "A");
    watch(pageB, "B");
    globalThis.openPages = [pageA, pageB];

    await firstSignIn(pageA, base, A);
    await firstSignIn(pageB, base, B);
    const bUser = (await pageB.evaluate(async () => (await fetch("/api/v1/me")).json())).user;
    const conversation = await pageJson(pageA, "POST", "/api/v1/conversations", { kind: "direct", member_ids: [bUser.id] });
    await pageB.getByRole("button", { name: new RegExp(A.name) }).waitFor();

    if (want("ct")) await check.run(`viewer journey: a ${SLICES}-slice CT from storescu is shared, opened, scrolled, windowed and measured`, async () => {
      const dir = join(work, "ct");
      let t0 = Date.now();
      run("python3", [join(here, "fixtures", "ct_phantom.py"), dir, String(SLICES)]);
      log(`generated ${SLICES + 1} CT instances in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      t0 = Date.now();
      run("storescu", ["-aet", "STORESCU", "-aec", "RENKEI", "127.0.0.1", String(dicomPort), "+sd", dir]);
      log(`storescu sent them in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      // A (phone) finds it in the image inbox and shares it with B.
      await pageA.getByRole("button", { name: "Images" }).click();
      const row = pageA.locator(".study-row", { hasText: "CT CHEST" });
      await row.waitFor();
      await row.getByText("ID …5678").waitFor();
      await row.getByText(`2 series, ${SLICES + 1} images`).waitFor();
      await pageA.screenshot({ path: join(results, "viewer-inbox-phone.png") });
      await row.getByRole("button", { name: "Share" }).click();
      const dialog = pageA.getByRole("dialog", { name: "Share study" });
      await dialog.getByText(B.name).click();
      await dialog.getByLabel("Message (optional)").fill("Chest CT from the ER, please review.");
      await dialog.getByRole("button", { name: "Share", exact: true }).click();
      await pageA.locator(".msg.mine:not(.pending)").getByRole("button", { name: /Open in viewer/ }).waitFor();

      // B (desktop) opens the card: the viewer shows the middle slice.
      await pageB.getByRole("button", { name: new RegExp(A.name) }).click();
      const card = pageB.locator(".msg.theirs").getByRole("button", { name: /Open in viewer/ });
      await card.waitFor();
      await pageB.locator(".msg.theirs .study-card", { hasText: "ID …5678" }).waitFor();
      await card.click();
      const viewer = pageB.getByRole("dialog", { name: /CT · CHEST/ });
      await viewer.waitFor();
      await pageB.locator(".viewport-canvas[data-index]").waitFor();
      const firstImage = await pageB.evaluate(() => performance.getEntriesByName("renkei:viewer-first-image")[0]?.duration);
      log(`first image ${firstImage?.toFixed(0)} ms after opening (${SLICES}-slice CT, loopback, debug server)`);
      const requests = await pageB.evaluate(() =>
        performance
          .getEntriesByType("resource")
          .filter((e) => e.startTime >= (performance.getEntriesByName("renkei:viewer-first-image")[0]?.startTime ?? 0))
          .slice(0, 8)
          .map((e) => `${e.name.replace(location.origin, "").replace(/[0-9a-f-]{36}/g, "…").slice(0, 60)} ${e.startTime.toFixed(0)}+${e.duration.toFixed(0)} ms`),
      );
      log(`requests after opening:\n  ${requests.join("\n  ")}`);
      const middle = Math.floor(SLICES / 2) + 1;
      await viewer.getByText(`Image ${middle} of ${SLICES}`).waitFor();
      await viewer.getByText("W 400 L 40").waitFor();
      await viewer.getByRole("button", { name: /Scout/ }).waitFor();

      // Scroll with the wheel: ten slices further, and the picture changes.
      const box = await canvasBox(pageB);
      const before = await canvasHash(pageB);
      await pageB.mouse.move(box.cx, box.cy);
      for (let i = 0; i < 10; i++) {
        await pageB.mouse.wheel(0, 100);
        await pageB.waitForTimeout(30);
      }
      await viewer.getByText(`Image ${middle + 10} of ${SLICES}`).waitFor();
      await pageB.waitForFunction((n) => document.querySelector(".viewport-canvas")?.dataset.index === String(n), middle + 9);
      assert((await canvasHash(pageB)) !== before, "scrolling shows another slice");

      // Once loaded, the stack scrolls frame by frame at display rate.
      await pageB.locator(".overlay.bottom-right", { hasText: "Loading" }).waitFor({ state: "detached", timeout: 120_000 });
      const fps = await pageB.evaluate(async () => {
        const viewport = document.querySelector(".viewport");
        const canvas = document.querySelector(".viewport-canvas");
        const frame = () => new Promise((ok) => requestAnimationFrame(ok));
        await frame();
        let shown = 0;
        let last = canvas.dataset.index;
        const t0 = performance.now();
        for (let i = 0; i < 120; i++) {
          viewport.dispatchEvent(new KeyboardEvent("keydown", { key: i < 60 ? "ArrowDown" : "ArrowUp", bubbles: true }));
          await frame();
          if (canvas.dataset.index !== last) shown++;
          last = canvas.dataset.index;
        }
        return (shown * 1000) / (performance.now() - t0);
      });
      log(`stack scrolling: ${fps.toFixed(1)} frames shown per second (headless Chromium, rAF-bound)`);
      // Window/level by dragging: the pixels change at once.
      await viewer.getByRole("button", { name: "Window", exact: true }).click();
      const unwindowed = await canvasHash(pageB);
      await drag(pageB, { x: box.cx, y: box.cy }, { x: box.cx + 140, y: box.cy + 70 });
      await pageB.waitForTimeout(100);
      const windowed = await canvasHash(pageB);
      assert(windowed !== unwindowed, "window/level changed the canvas pixels");
      const wl = await viewer.locator(".wl-readout").innerText();
      assert(wl !== "W 400 L 40", `window readout moved (${wl})`);
      await viewer.getByLabel("Window preset").selectOption("lung");
      await viewer.getByText("W 1500 L -600").waitFor();
      await pageB.waitForTimeout(100);
      assert((await canvasHash(pageB)) !== windowed, "the lung preset repaints");

      // Measure 200 screen pixels: the length follows from 0.7 mm pixels and the fitted scale.
      // (The tool's bar may take room from the image: the scale is read after choosing it.)
      await viewer.getByRole("button", { name: "Measure", exact: true }).click();
      await pageB.waitForTimeout(100);
      const measuring = await canvasBox(pageB);
      await drag(pageB, { x: measuring.cx - 100, y: measuring.cy + 40 }, { x: measuring.cx + 100, y: measuring.cy + 40 });
      const readout = await viewer.locator(".measure-readout").innerText();
      const mm = Number(readout.match(/([\d.]+) mm/)?.[1]);
      const expected = (200 / Math.min(measuring.width / 512, measuring.height / 512)) * 0.7;
      assert(Math.abs(mm - expected) < 1.5, `measured ${readout}, expected about ${expected.toFixed(1)} mm`);
      log(`measured ${readout} (expected ${expected.toFixed(1)} mm)`);

      await pageB.screenshot({ path: join(results, "viewer-ct-desktop.png") });

      // Cine plays the stack at the chosen rate until paused.
      await viewer.getByLabel("Frame rate").selectOption("30");
      const still = await pageB.locator(".viewport-canvas").getAttribute("data-index");
      await viewer.getByRole("button", { name: "Play cine" }).click();
      await pageB.waitForFunction((i) => document.querySelector(".viewport-canvas").dataset.index !== i, still);
      await viewer.getByRole("button", { name: "Pause cine" }).click();

      // Reset brings back the study's window and the fitted view.
      await viewer.getByRole("button", { name: "Reset view" }).click();
      await viewer.getByText("W 400 L 40").waitFor();
      await viewer.getByRole("button", { name: "Close viewer" }).click();
      await viewer.waitFor({ state: "detached" });

      // On the phone, the same study from the card in chat.
      await pageA.locator(".msg.mine").getByRole("button", { name: /Open in viewer/ }).click();
      await pageA.locator(".viewport-canvas[data-index]").waitFor();
      await pageA.getByRole("button", { name: "Window", exact: true }).waitFor();
      await pageA.waitForTimeout(300);
      await pageA.screenshot({ path: join(results, "viewer-ct-phone.png") });
      await pageA.goBack();
      await pageA.getByRole("dialog", { name: /CT · CHEST/ }).waitFor({ state: "detached" });
    });

    if (want("ecg")) await check.run("viewer journey: pydicom's waveform_ecg.dcm renders 12 leads on ECG paper", async () => {
      run("storescu", ["-aet", "STORESCU", "-aec", "RENKEI", "127.0.0.1", String(dicomPort), pydicomFile("waveform_ecg.dcm")]);
      await pageB.getByRole("button", { name: "Images" }).click();
      const row = pageB.locator(".study-row", { hasText: "ECG" });
      await row.waitFor();
      await row.getByRole("button", { name: "Open" }).click();
      const summary = pageB.locator('.ecg-summary[data-leads="12"]');
      await summary.waitFor();
      assert((await summary.innerText()).startsWith("12-lead ECG"), "12 leads");
      await pageB.getByText("25 mm/s · 10 mm/mV").waitFor();
      const label = await pageB.locator(".ecg-paper canvas").getAttribute("aria-label");
      for (const lead of ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]) assert(label.split(/[ ,]+/).includes(lead), `lead ${lead} drawn (${label})`);
      const ink = await pageB.evaluate(() => {
        const c = document.querySelector(".ecg-paper canvas");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let dark = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 80 && d[i + 1] < 80 && d[i + 2] < 80) dark++;
        return dark / (c.width * c.height);
      });
      assert(ink > 0.005 && ink < 0.2, `traces drawn (${(ink * 100).toFixed(2)}% ink)`);
      await pageB.screenshot({ path: join(results, "viewer-ecg-desktop.png") });
      await pageB.getByRole("button", { name: "Zoom in" }).click();
      await pageB.waitForTimeout(200);
      const wide = await pageB.evaluate(() => document.querySelector(".ecg-paper canvas").getBoundingClientRect().width);
      const paper = await pageB.evaluate(() => document.querySelector(".ecg-paper").clientWidth);
      assert(wide > paper * 1.3, "zoomed paper is wider than the screen and scrolls");
      await pageB.getByRole("button", { name: "Close viewer" }).click();
      await pageB.getByRole("button", { name: /^Chats/ }).click();

      // The same in Japanese on a phone: inbox, card and viewer strings all translated.
      const ctxJa = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
      ctxJa.setDefaultTimeout(20_000);
      const ja = await ctxJa.newPage();
      watch(ja, "B-ja");
      await signIn(ja, base, B, B.password);
      await ja.getByRole("button", { name: "あとで" }).click();
      await ja.getByRole("button", { name: "画像" }).click();
      await ja.getByRole("heading", { name: "画像受信箱" }).waitFor();
      const jaRow = ja.locator(".study-row", { hasText: "ECG" });
      await jaRow.getByText("1画像").waitFor();
      await ja.screenshot({ path: join(results, "viewer-inbox-ja-phone.png") });
      await jaRow.getByRole("button", { name: "開く" }).click();
      await ja.locator('.ecg-summary[data-leads="12"]', { hasText: "12誘導心電図" }).waitFor();
      const text = await ja.evaluate(() => document.body.innerText);
      const keys = text.match(/\b(viewer|inbox|study|ecg|share|attach|nav)\.[a-zA-Z.]+\b/g);
      assert(!keys, `untranslated keys: ${keys}`);
      await ja.screenshot({ path: join(results, "viewer-ecg-ja-phone.png") });
      await ctxJa.close();
    });

    if (want("photo")) await check.run("attachments journey: a GPS-tagged photo arrives without EXIF; mention, edit, delete; expiry", async () => {
      // A builds a real JPEG in the browser, then adds a camera make and GPS position to it.
      const plain = Buffer.from(
        await pageA.evaluate(async () => {
          const c = document.createElement("canvas");
          c.width = 640;
          c.height = 480;
          const g = c.getContext("2d");
          const grad = g.createLinearGradient(0, 0, 640, 480);
          grad.addColorStop(0, "#d9b99b");
          grad.addColorStop(1, "#8c5a3c");
          g.fillStyle = grad;
          g.fillRect(0, 0, 640, 480);
          g.fillStyle = "#b03a2e";
          g.beginPath();
          g.ellipse(320, 240, 120, 60, 0.3, 0, Math.PI * 2);
          g.fill();
          const blob = await new Promise((ok) => c.toBlob(ok, "image/jpeg", 0.9));
          return [...new Uint8Array(await blob.arrayBuffer())];
        }),
      );
      const photo = withGpsExif(plain);
      assert(photo.includes(Buffer.from("Exif\0\0")) && photo.includes(Buffer.from("RenkeiCam")), "the test photo carries EXIF");

      if (!(await pageA.locator("#chat-title", { hasText: B.name }).isVisible())) {
        await pageA.getByRole("button", { name: /^Chats/ }).click();
        await pageA.getByRole("button", { name: new RegExp(B.name) }).click();
      }
      await pageA.locator('input[type="file"][capture]').setInputFiles({ name: "wound-day3.jpg", mimeType: "image/jpeg", buffer: photo });
      await pageA.getByText("Ready").waitFor();
      const box = pageA.getByRole("textbox", { name: "Write a message" });
      await box.pressSequentially("@もり");
      await pageA.getByRole("listbox", { name: "Mention a member" }).getByText(B.name).click();
      // The pick replaces "@もり" and puts the caret after the name; type only after that.
      await pageA.waitForFunction(
        (name) => document.activeElement?.value === `@${name} ` && document.activeElement.selectionStart === name.length + 2,
        B.name,
      );
      await box.pressSequentially("wound on day 3, please check");
      assert((await box.inputValue()) === `@${B.name} wound on day 3, please check`, "mention completed");
      await pageA.getByRole("button", { name: "Send" }).click();
      await pageA.locator(".msg.mine:not(.pending) .photo-thumb img").waitFor();

      await pageB.getByRole("button", { name: new RegExp(A.name) }).click();
      const msg = pageB.locator(".msg.theirs", { hasText: "wound on day 3" });
      await msg.locator(".photo-thumb img").waitFor();
      await msg.locator(".mention.me", { hasText: `@${B.name}` }).waitFor();
      await pageB.waitForFunction(() => [...document.querySelectorAll(".photo-thumb img")].every((i) => i.complete && i.naturalWidth > 0));

      // What B downloads has no EXIF at all: no GPS, no camera.
      const history = await pageB.evaluate(async (id) => (await fetch(`/api/v1/conversations/${id}/messages`)).json(), conversation.id);
      const media = history.flatMap((m) => m.attachments).find((a) => a.kind === "media");
      const bytes = Buffer.from(await pageB.evaluate(async (id) => [...new Uint8Array(await (await fetch(`/api/v1/media/${id}/content`)).arrayBuffer())], media.id));
      assert(bytes[0] === 0xff && bytes[1] === 0xd8, "a JPEG");
      assert(!bytes.includes(Buffer.from("Exif\0\0")), "no EXIF block");
      assert(!bytes.includes(Buffer.from("RenkeiCam")), "no camera make");
      const gpsSeconds = Buffer.from([0x98, 0x08, 0, 0, 0x64, 0, 0, 0]);
      assert(photo.includes(gpsSeconds) && !bytes.includes(gpsSeconds), "no GPS position");

      // Full size on tap.
      await msg.locator(".photo-thumb").click();
      const full = pageB.getByRole("dialog", { name: "wound-day3.jpg" });
      await full.locator("img").waitFor();
      await pageB.waitForFunction(() => document.querySelector(".media-stage img")?.naturalWidth > 0);
      await pageB.screenshot({ path: join(results, "attachments-photo-full.png") });
      await full.getByRole("button", { name: "Close" }).click();

      // A edits, then deletes, a message of their own; B sees both.
      await box.fill("Dressing changed at 10:00");
      await box.press("Enter");
      const own = pageA.locator(".msg.mine:not(.pending)", { hasText: "Dressing changed at 10:00" });
      await own.waitFor();
      await own.getByRole("button", { name: "More actions" }).click();
      await pageA.getByRole("menuitem", { name: "Edit" }).click();
      await box.fill("Dressing changed at 10:30");
      await pageA.getByRole("button", { name: "Save" }).click();
      await pageB.locator(".msg.theirs", { hasText: "Dressing changed at 10:30" }).getByText("edited").waitFor();
      await box.fill("Sent to the wrong chat, sorry");
      await box.press("Enter");
      const wrong = pageA.locator(".msg.mine:not(.pending)", { hasText: "Sent to the wrong chat" });
      await wrong.waitFor();
      await pageB.locator(".msg.theirs", { hasText: "Sent to the wrong chat" }).waitFor();
      await wrong.getByRole("button", { name: "More actions" }).click();
      await pageA.getByRole("menuitem", { name: "Delete" }).click();
      await pageA.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
      await pageB.locator(".msg.theirs", { hasText: "Sent to the wrong chat" }).waitFor({ state: "detached" });
      await pageB.locator(".msg.theirs .deleted").waitFor();
      await pageA.screenshot({ path: join(results, "attachments-chat-phone.png") });
      await pageB.screenshot({ path: join(results, "attachments-chat-desktop.png") });

      // After the retention period, the photo and the study say so; the messages stay.
      const later = new Date(Date.now() + 4 * 86_400_000).toISOString();
      cli(bin, server.dataDir, ["expire-media", "--as-of", later]);
      await pageB.reload();
      await pageB.getByRole("button", { name: new RegExp(A.name) }).click();
      await pageB.getByText("Expired: deleted after the retention period").first().waitFor();
      if (want("ct")) await pageB.getByText("Study expired").first().waitFor();
      await pageB.locator(".msg.theirs", { hasText: "wound on day 3" }).waitFor();
      await pageB.screenshot({ path: join(results, "attachments-expired-desktop.png") });
    });

    await check.run("nothing with patient data in browser storage; no CSP violations or page errors", async () => {
      // The language, and a declined passcode prompt's time by user id: nothing else.
      for (const page of [pageA, pageB]) {
        const storage = await page.evaluate(async () => ({
          local: Object.keys(localStorage),
          session: Object.keys(sessionStorage),
          idb: (await indexedDB.databases()).length,
          caches: (await caches.keys()).length,
        }));
        assert(storage.local.every((k) => k === "renkei.lang" || /^renkei\.passcodeLater\.[0-9a-f-]{36}$/.test(k)) && storage.session.length === 0 && storage.idb === 0 && storage.caches === 0, `storage ${JSON.stringify(storage)}`);
      }
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
