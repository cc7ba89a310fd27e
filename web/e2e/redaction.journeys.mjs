// End-to-end journey of redaction, in Japanese on a 390×844 phone: an ultrasound cine with a
// burned-in header band, sent by dcmtk's storescu, is opened in the viewer; the band is boxed,
// previewed black, and blacked out (the server replaces the image and destroys the original);
// then one tap makes a device rule, and the next image from that device arrives blacked out.
// In the admin console the rule made from the viewer is listed, and an admin adds a rule, edits
// it and deletes it. A photo gets a black box and a blur on the device before it is sent.
//
//   node e2e/redaction.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Needs dcmtk (storescu) and pydicom (scripts/setup.sh).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverBinary, cli, startServer, stopServer, firstAdmin, createUsers, Check, assert, launchBrowser, results, signIn, freePort, here, pageJson, finishJourneys, run } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const ADMIN = { login: "admin" };
const ADMIN_PASSWORD = "admin-password-0001";
const B = { login: "mori", name: "森 健一", kana: "もり けんいち", profession: "doctor", first: "Onetime-B-456" };

/** Mean and spread of the red channel of the photo's area (x, y, width, height), as drawn. */
function areaStats(page, url, [x, y, width, height]) {
  return page.evaluate(
    async ({ url, x, y, width, height }) => {
      const bitmap = await createImageBitmap(await (await fetch(url)).blob());
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const g = c.getContext("2d");
      g.drawImage(bitmap, 0, 0);
      const d = g.getImageData(x, y, width, height).data;
      let sum = 0;
      let squares = 0;
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        sum += d[i];
        squares += d[i] * d[i];
      }
      const mean = sum / n;
      return { mean, spread: Math.sqrt(squares / n - mean * mean) };
    },
    { url, x, y, width, height },
  );
}


/** The brightest value in rows 5..14 (the burned-in band) of frame 1 of an instance, rendered. */
function bandBrightness(page, study, sop) {
  return page.evaluate(
    async ({ study, sop }) => {
      const blob = await (await fetch(`/api/v1/studies/${study}/instances/${encodeURIComponent(sop)}/frames/1/rendered?format=png`)).blob();
      const bitmap = await createImageBitmap(blob);
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const g = c.getContext("2d");
      g.drawImage(bitmap, 0, 0);
      const d = g.getImageData(0, 5, bitmap.width, 10).data;
      let max = 0;
      for (let i = 0; i < d.length; i += 4) max = Math.max(max, d[i]);
      return max;
    },
    { study, sop },
  );
}

async function main() {
  const bin = serverBinary();
  const dicomPort = await freePort();
  const server = await startServer(bin, ["--dicom-listen", `127.0.0.1:${dicomPort}`]);
  const { base } = server;
  const check = new Check();
  const work = mkdtempSync(join(tmpdir(), "renkei-e2e-redact-"));
  let browser;
  const send = (name) => {
    const file = join(work, name);
    run("python3", [join(here, "fixtures", "us_cine.py"), file, "6", "TEXT"]);
    run("storescu", ["-aet", "STORESCU", "-aec", "RENKEI", "127.0.0.1", String(dicomPort), file]);
  };
  try {
    await firstAdmin(server);
    createUsers(bin, server, [B]);
    cli(bin, server.dataDir, ["add-dicom-peer", "--org", "first", "--ae-title", "STORESCU", "--allow", "127.0.0.0/8"]);
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    ctx.setDefaultTimeout(20_000);
    const page = await ctx.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error ${e.message}`));
    globalThis.openPages = [page];

    await check.run("redaction journey: a burned-in band is boxed, previewed, blacked out, and becomes a device rule", async () => {
      send("us1.dcm");
      await signIn(page, base, ADMIN, ADMIN_PASSWORD);
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("button", { name: "画像" }).click();
      const row = page.locator(".study-row", { hasText: "ECHO HEART" });
      await row.getByRole("button", { name: "開く" }).click();
      await page.locator(".viewport-canvas[data-index]").waitFor();
      const [study] = await pageJson(page, "GET", "/api/v1/studies");
      const series = (await pageJson(page, "GET", `/api/v1/studies/${study.id}`)).series[0];
      const before = await pageJson(page, "GET", `/api/v1/studies/${study.id}/series/${encodeURIComponent(series.series_uid)}/instances`);
      assert(before.length === 1, "one instance");
      assert((await bandBrightness(page, study.id, before[0].sop_uid)) > 200, "the band is burned in");

      // The tool: a hint, then a box dragged over the header band.
      await page.getByRole("button", { name: "黒塗り", exact: true }).click();
      await page.getByText("氏名やIDの上をドラッグして囲みます。").waitFor();
      const box = await page.locator(".viewport-canvas").boundingBox();
      // The 256×256 image is fitted to the canvas width (phone portrait): image y = 0..20 is the band.
      const scale = Math.min(box.width, box.height) / 256;
      const top = box.y + (box.height - 256 * scale) / 2;
      await page.mouse.move(box.x + 2, top + 1 * scale);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 2, top + 19 * scale, { steps: 8 });
      await page.mouse.up();
      await page.getByText("黒塗りする範囲：1件").waitFor();
      await page.screenshot({ path: join(results, "redaction-preview-ja-phone.png") });

      // Applying asks first (the original is destroyed), then replaces the image.
      await page.getByRole("button", { name: "適用" }).click();
      await page.getByText("元の画像は完全に削除され、復元できません。").waitFor();
      await page.screenshot({ path: join(results, "redaction-confirm-ja-phone.png") });
      await page.getByRole("button", { name: "黒塗りする" }).click();
      await page.getByText("黒塗りしました。元の画像は削除されました。").waitFor();
      const after = await pageJson(page, "GET", `/api/v1/studies/${study.id}/series/${encodeURIComponent(series.series_uid)}/instances`);
      assert(after.length === 1 && after[0].sop_uid !== before[0].sop_uid, "the derived instance replaced the original");
      assert(after[0].frames === 6, "every frame kept");
      assert((await bandBrightness(page, study.id, after[0].sop_uid)) < 10, "the band is black");
      const gone = await page.evaluate(async (url) => (await fetch(url)).status, `/api/v1/studies/${study.id}/instances/${encodeURIComponent(before[0].sop_uid)}`);
      assert(gone === 404, `the original is gone (${gone})`);
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(results, "redaction-done-ja-phone.png") });

      // One tap: a rule for this device, and the next image from it arrives blacked out.
      await page.getByRole("button", { name: "この装置では常にこの範囲を黒塗りする" }).click();
      await page.getByText("ルールを保存しました。").waitFor();
      await page.screenshot({ path: join(results, "redaction-rule-ja-phone.png") });
      const me = await pageJson(page, "GET", "/api/v1/me");
      const rules = await pageJson(page, "GET", `/api/v1/orgs/${me.user.org_id}/redaction-rules`);
      assert(rules.length === 1 && rules[0].manufacturer === "ACME Medical" && rules[0].rows === 256, "the rule names the device");
      send("us2.dcm");
      const studies = await pageJson(page, "GET", "/api/v1/studies");
      assert(studies.length === 2, "the second study arrived");
      const second = studies.find((s) => s.id !== study.id);
      const secondSeries = (await pageJson(page, "GET", `/api/v1/studies/${second.id}`)).series[0];
      const [instance] = await pageJson(page, "GET", `/api/v1/studies/${second.id}/series/${encodeURIComponent(secondSeries.series_uid)}/instances`);
      assert((await bandBrightness(page, second.id, instance.sop_uid)) < 10, "the next image from the device arrived blacked out");

      const text = await page.evaluate(() => document.body.innerText);
      const keys = text.match(/\b(viewer|study|common)\.[a-zA-Z.]+\b/g);
      assert(!keys, `untranslated keys: ${keys}`);
      assert(problems.length === 0, problems.join("\n"));
    });

    await check.run("console rules journey: the rule made in the viewer is listed; a rule is added, edited and deleted", async () => {
      await page.goto(`${base}/`);
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).click();
      await page.getByRole("heading", { name: "管理コンソール" }).waitFor();
      await page.locator(".admin-tabs").getByRole("button", { name: "画像連携", exact: true }).click();
      const card = page.locator(".admin-card", { has: page.getByRole("heading", { name: "黒塗りルール" }) });
      const rowOf = (device) => card.locator("tbody tr", { hasText: device });
      await rowOf("ACME Medical").getByText("1か所").waitFor();
      await card.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(results, "redaction-rules-listed-ja-phone.png") });

      const fill = async (values) => {
        for (const [key, value] of Object.entries(values)) await card.locator(`[name="rule-${key}"]`).fill(value);
      };
      await fill({ manufacturer: "Canon Medical", model: "Aplio i800", rows: "768", columns: "1024", modality: "US", rectangles: "0, 0, 1024, 56" });
      await card.getByRole("button", { name: "ルールを追加" }).click();
      await card.getByText("Canon Medical Aplio i800 のルールを追加しました。").waitFor();
      await rowOf("Canon Medical").getByText("1か所").waitFor();
      await rowOf("Canon Medical").getByText("1024 × 768 · US").waitFor();

      // Edited: the form takes the rule's values; a second area is added and saved.
      await rowOf("Canon Medical").getByRole("button", { name: "編集" }).click();
      const rects = card.locator('[name="rule-rectangles"]');
      assert((await card.locator('[name="rule-model"]').inputValue()) === "Aplio i800", "the form holds the rule");
      await rects.fill("0, 0, 1024, 56\n880, 700, 144, 68");
      await page.screenshot({ path: join(results, "redaction-rules-edit-ja-phone.png") });
      await card.getByRole("button", { name: "保存", exact: true }).click();
      await card.getByText("Canon Medical Aplio i800 のルールを保存しました。").waitFor();
      await rowOf("Canon Medical").getByText("2か所").waitFor();
      const me = await pageJson(page, "GET", "/api/v1/me");
      const url = `/api/v1/orgs/${me.user.org_id}/redaction-rules`;
      const saved = (await pageJson(page, "GET", url)).find((r) => r.manufacturer === "Canon Medical");
      assert(saved.version === 2 && saved.rectangles.length === 2 && saved.rectangles[1].x === 880, "the edit is saved at the next version");

      // A line that is not x, y, width, height is refused before anything is sent.
      await fill({ manufacturer: "Hitachi", model: "Arietta", rows: "600", columns: "800", rectangles: "0, 0, 800" });
      await card.getByRole("button", { name: "ルールを追加" }).click();
      await card.getByText("1行目が x, y, 幅, 高さ になっていません。").waitFor();
      assert((await pageJson(page, "GET", url)).length === 2, "nothing was added");

      // Deleted after a second, explicit tap.
      await rowOf("Canon Medical").getByRole("button", { name: "削除", exact: true }).click();
      await page.screenshot({ path: join(results, "redaction-rules-remove-ja-phone.png") });
      await rowOf("Canon Medical").getByRole("button", { name: "このルールを削除する" }).click();
      await rowOf("Canon Medical").waitFor({ state: "detached" });
      const left = await pageJson(page, "GET", url);
      assert(left.length === 1 && left[0].manufacturer === "ACME Medical", "only the viewer's rule is left");
      const text = await page.evaluate(() => document.body.innerText);
      const keys = text.match(/\badmin\.[a-zA-Z.]+\b/g);
      assert(!keys, `untranslated keys: ${keys}`);
      assert(problems.length === 0, problems.join("\n"));
    });

    await check.run("photo journey: a black box and a blur are put on a photo on the device before it is sent", async () => {
      // A label (black on white) in the top half, a checkerboard in the bottom half.
      const photo = Buffer.from(
        await page.evaluate(async () => {
          const c = document.createElement("canvas");
          c.width = 640;
          c.height = 480;
          const g = c.getContext("2d");
          g.fillStyle = "#fff";
          g.fillRect(0, 0, 640, 480);
          g.fillStyle = "#000";
          g.font = "bold 56px sans-serif";
          g.fillText("YAMADA TARO 1970", 30, 200);
          for (let y = 260; y < 480; y += 20) for (let x = 0; x < 640; x += 20) if ((x + y) % 40 === 0) g.fillRect(x, y, 20, 20);
          const blob = await new Promise((ok) => c.toBlob(ok, "image/jpeg", 0.95));
          return [...new Uint8Array(await blob.arrayBuffer())];
        }),
      );
      const me = await pageJson(page, "GET", "/api/v1/me");
      const people = await pageJson(page, "GET", `/api/v1/orgs/${me.user.org_id}/users?limit=500`);
      const b = people.find((p) => p.display_name === B.name || p.login === B.login);
      const conversation = await pageJson(page, "POST", "/api/v1/conversations", { kind: "group", title: "病棟写真", member_ids: [b.id] });
      await page.goto(`${base}/`);
      await page.getByRole("button", { name: /病棟写真/ }).click();
      await page.locator('input[type="file"][capture]').setInputFiles({ name: "wristband.jpg", mimeType: "image/jpeg", buffer: photo });
      await page.getByRole("button", { name: "一部を隠す" }).click();
      const editor = page.getByRole("dialog", { name: "黒塗り・ぼかし" });
      const canvas = editor.locator(".photo-editor-canvas");
      await page.waitForFunction(() => document.querySelector(".photo-editor-canvas")?.width === 640);
      const at = async (x, y) => {
        const r = await canvas.boundingBox();
        return { x: r.x + (x / 640) * r.width, y: r.y + (y / 480) * r.height };
      };
      const dragOn = async (from, to) => {
        const a = await at(...from);
        const z = await at(...to);
        await page.mouse.move(a.x, a.y);
        await page.mouse.down();
        await page.mouse.move(z.x, z.y, { steps: 6 });
        await page.mouse.up();
      };
      await dragOn([10, 130], [630, 220]);
      await editor.getByRole("radio", { name: "ぼかし" }).click();
      await dragOn([0, 260], [640, 480]);
      await page.screenshot({ path: join(results, "photo-edit-ja-phone.png") });
      await editor.getByRole("button", { name: "この写真を使う" }).click();
      await page.getByText("送信できます").waitFor();
      await page.getByRole("button", { name: "送信" }).click();
      await page.locator(".msg.mine:not(.pending) .photo-thumb img").waitFor();
      await page.screenshot({ path: join(results, "photo-sent-ja-phone.png") });
      const history = await pageJson(page, "GET", `/api/v1/conversations/${conversation.id}/messages`);
      const media = history.flatMap((m) => m.attachments).find((a) => a.kind === "media");
      const url = `/api/v1/media/${media.id}/content`;
      const label = await areaStats(page, url, [30, 150, 560, 60]);
      assert(label.mean < 30, `the label is under a black box (mean ${label.mean.toFixed(0)})`);
      const board = await areaStats(page, url, [40, 300, 560, 160]);
      assert(board.spread < 60, `the checkerboard is blurred (spread ${board.spread.toFixed(0)}; sharp is ~127)`);
    });
  } finally {
    if (browser) await browser.close();
    await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  }
  return check;
}

finishJourneys(main);
