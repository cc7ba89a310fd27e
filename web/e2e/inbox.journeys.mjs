// End-to-end journeys of the live image inbox, in Japanese on a phone (390×844): a CT sent by
// dcmtk's storescu appears in the open inbox without a reload, with a thumbnail; an ultrasound
// cine is labelled by frames and opens on frame 1 with play; a measurement at the screen edge
// keeps its label on screen; an ultrasound with a name burned into its pixels is held with the
// text outlined and released by confirming it clean; "あとで" on the passcode prompt survives a reload; the menu changes
// one's password and sets a passcode.
//
//   node e2e/inbox.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Needs dcmtk (storescu) and pydicom (scripts/setup.sh). Screenshots: SHOTS (default test-results).

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serverBinary, cli, startServer, stopServer, firstAdmin, createUsers, Check, assert, launchBrowser, results, log, signIn, freePort, here, finishJourneys, run } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const A = { login: "kato", name: "加藤 美咲", kana: "かとう みさき", profession: "doctor", first: "Onetime-A-456", password: "A-strong-password-2", next: "A-newer-password-3" };
const SLICES = 12;
const shots = process.env.SHOTS || results;
mkdirSync(shots, { recursive: true });


async function main() {
  const bin = serverBinary();
  const dicomPort = await freePort();
  const server = await startServer(bin, ["--dicom-listen", `127.0.0.1:${dicomPort}`]);
  const { base } = server;
  const send = (path) => run("storescu", ["-aet", "STORESCU", "-aec", "RENKEI", "127.0.0.1", String(dicomPort), ...(path.endsWith(".dcm") ? [] : ["+sd"]), path]);
  const check = new Check();
  const work = mkdtempSync(join(tmpdir(), "renkei-e2e-inbox-"));
  let browser;
  try {
    await firstAdmin(server);
    createUsers(bin, server, [A]);
    cli(bin, server.dataDir, ["add-dicom-peer", "--org", "first", "--ae-title", "STORESCU", "--allow", "127.0.0.0/8"]);
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    ctx.setDefaultTimeout(20_000);
    const page = await ctx.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error ${e.message}`));
    globalThis.openPages = [page];

    await check.run("inbox journey: あとで on the passcode prompt holds across a reload", async () => {
      await signIn(page, base, A, A.first);
      await page.getByRole("heading", { name: "パスワードの設定" }).waitFor();
      await page.getByLabel("仮パスワード").fill(A.first);
      await page.getByLabel("新しいパスワード", { exact: true }).fill(A.password);
      await page.getByLabel("新しいパスワード(確認)").fill(A.password);
      await page.getByRole("button", { name: "パスワードを保存" }).click();
      await page.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await page.screenshot({ path: join(shots, "inbox-passcode-prompt.png") });
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.reload();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      assert(!(await page.getByRole("heading", { name: "パスコードの設定" }).isVisible()), "no passcode prompt after a reload");
    });

    await check.run("inbox journey: a CT from storescu appears in the open inbox without a reload, with a thumbnail", async () => {
      await page.getByRole("button", { name: "画像" }).click();
      await page.getByText("受信した検査はまだありません。").waitFor();
      await page.screenshot({ path: join(shots, "inbox-empty.png") });
      const dir = join(work, "ct");
      run("python3", [join(here, "fixtures", "ct_phantom.py"), dir, String(SLICES)]);
      send(dir);
      // The fallback poll is two minutes (it was 15 s): within 8 s only the socket's hint can bring it.
      const row = page.locator(".study-row", { hasText: "CT CHEST" });
      await row.waitFor({ timeout: 8_000 });
      await row.getByText(`2シリーズ・${SLICES + 1}画像`).waitFor();
      await page.waitForFunction(() => {
        const img = document.querySelector(".study-row .study-thumb img");
        return img && img.complete && img.naturalWidth > 0;
      });
      const size = await row.locator(".study-thumb img").evaluate((img) => [img.naturalWidth, img.naturalHeight]);
      assert(size[0] <= 160 && size[1] <= 160, `a small thumbnail (${size})`);
      await page.screenshot({ path: join(shots, "inbox-ct-thumbnail.png") });
    });

    await check.run("inbox journey: an ultrasound cine is 16 frames, opens on frame 1 and plays", async () => {
      const file = join(work, "us.dcm");
      run("python3", [join(here, "fixtures", "us_cine.py"), file, "16"]);
      send(file);
      const row = page.locator(".study-row", { hasText: "ECHO HEART" });
      await row.waitFor({ timeout: 8_000 });
      await row.getByText("1シリーズ・16フレーム").waitFor();
      await page.waitForFunction(() => [...document.querySelectorAll(".study-row .study-thumb img")].filter((i) => i.complete && i.naturalWidth > 0).length === 2);
      await page.screenshot({ path: join(shots, "inbox-two-studies.png") });
      await row.getByRole("button", { name: "開く" }).click();
      const viewer = page.getByRole("dialog", { name: /US/ });
      await viewer.waitFor();
      await page.locator(".viewport-canvas[data-index]").waitFor();
      await viewer.getByText("フレーム 1/16").waitFor();
      assert((await page.locator(".viewport-canvas").getAttribute("data-index")) === "0", "the first frame is drawn");
      await page.screenshot({ path: join(shots, "viewer-cine-first-frame.png") });
      await viewer.getByRole("button", { name: "シネ再生" }).click();
      await page.waitForFunction(() => document.querySelector(".viewport-canvas")?.dataset.index !== "0");
      await viewer.getByRole("button", { name: "シネ停止" }).click();
      await page.screenshot({ path: join(shots, "viewer-cine-paused.png") });
      await page.goBack();
      await viewer.waitFor({ state: "detached" });
    });

    await check.run("inbox journey: a measurement at the right edge keeps its label on screen", async () => {
      await page.locator(".study-row", { hasText: "CT CHEST" }).getByRole("button", { name: "開く" }).click();
      const viewer = page.getByRole("dialog", { name: /CT/ });
      await viewer.waitFor();
      await page.locator(".viewport-canvas[data-index]").waitFor();
      await viewer.getByRole("button", { name: "計測", exact: true }).click();
      const box = await page.locator(".viewport-canvas").boundingBox();
      const y = box.y + box.height / 2;
      await page.mouse.move(box.x + box.width * 0.4, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 3, y, { steps: 8 });
      await page.mouse.up();
      await viewer.locator(".measure-readout").waitFor();
      // The label's yellow pixels lie left of the line's end, inside the canvas.
      const inside = await page.evaluate(() => {
        const c = document.querySelector(".viewport-canvas");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let yellowLeftOfEnd = 0;
        const mid = Math.round(c.height / 2);
        for (let y = mid - 60; y < mid + 60; y++)
          for (let x = 0; x < c.width * 0.4 - 30; x++) {
            const i = (y * c.width + x) * 4;
            if (d[i] > 230 && d[i + 1] > 190 && d[i + 2] < 120) yellowLeftOfEnd++;
          }
        return yellowLeftOfEnd;
      });
      assert(inside > 20, `the label was drawn left of the line (${inside} label pixels)`);
      await page.screenshot({ path: join(shots, "viewer-measure-edge.png") });
      await page.goBack();
      await viewer.waitFor({ state: "detached" });
    });

    await check.run("inbox journey: an ultrasound with a name in its pixels is held, outlined, and released by confirming it clean", async () => {
      const file = join(work, "us-held.dcm");
      run("python3", [join(here, "..", "..", "crates", "renkei-dicom", "tests", "burned_in_images.py"), "dicom", file, "us", "text", "US"]);
      send(file);
      const row = page.locator(".study-row", { hasText: "THYROID" });
      await row.waitFor({ timeout: 15_000 });
      await row.getByText("患者情報が写っている可能性があります").waitFor();
      assert(!(await row.getByRole("button", { name: "共有" }).isVisible()), "a held study offers no share button");
      await page.waitForFunction(() => {
        const img = [...document.querySelectorAll(".study-row")].find((r) => r.textContent.includes("THYROID"))?.querySelector(".study-thumb img");
        return img && img.complete && img.naturalWidth > 0;
      });
      // The detected text is outlined in red on the key image.
      const redPixels = (img) => {
        const c = document.createElement("canvas");
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        const g = c.getContext("2d");
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 160 && d[i + 1] < 90 && d[i + 2] < 90) n++;
        return n;
      };
      const red = await row.locator(".study-thumb img").evaluate(redPixels);
      assert(red > 10, `the text is outlined (${red} red pixels)`);
      await row.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(shots, "inbox-held.png") });
      await row.getByRole("button", { name: "写っていないことを確認" }).click();
      const ask = page.getByRole("alertdialog");
      await ask.getByText("この確認はあなたの名前で記録されます").waitFor();
      await page.screenshot({ path: join(shots, "inbox-held-confirm.png") });
      await ask.getByRole("button", { name: "実行" }).click();
      await row.getByRole("button", { name: "共有" }).waitFor();
      assert(!(await row.getByText("患者情報が写っている可能性があります").isVisible()), "released");
      // Released: the key image is drawn again without the outline.
      let left = -1;
      for (let i = 0; i < 40 && left !== 0; i++) {
        await page.waitForTimeout(250);
        const thumb = row.locator(".study-thumb img");
        const loaded = await thumb.evaluate((img) => img.complete && img.naturalWidth > 0);
        if (loaded && (await thumb.getAttribute("src")).endsWith("h=0")) left = await thumb.evaluate(redPixels);
      }
      assert(left === 0, `the released key image has no outline (${left} red pixels)`);
      await page.screenshot({ path: join(shots, "inbox-released.png") });
    });

    await check.run("inbox journey: the menu changes one's password and sets a passcode", async () => {
      await page.getByRole("button", { name: "メニュー" }).first().click();
      await page.screenshot({ path: join(shots, "menu.png") });
      await page.getByRole("menuitem", { name: "パスワードを変更" }).click();
      await page.getByRole("heading", { name: "パスワードの変更" }).waitFor();
      await page.getByLabel("現在のパスワード").fill(A.password);
      await page.getByLabel("新しいパスワード", { exact: true }).fill(A.next);
      await page.getByLabel("新しいパスワード(確認)").fill(A.next);
      await page.screenshot({ path: join(shots, "change-password.png") });
      await page.getByRole("button", { name: "パスワードを保存" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      const login = await fetch(base + "/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ login: A.login, password: A.next }),
      });
      assert(login.status === 200, `the new password signs in (${login.status})`);

      await page.getByRole("button", { name: "メニュー" }).first().click();
      await page.getByRole("menuitem", { name: "パスコードを設定" }).click();
      await page.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await page.getByLabel("パスコード(数字4〜12桁)").fill("2468");
      await page.getByLabel("パスコード(確認)").fill("2468");
      await page.getByRole("button", { name: "パスコードを設定" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: "メニュー" }).first().click();
      await page.getByRole("menuitem", { name: "パスコードを変更" }).waitFor();
      await page.getByRole("menuitem", { name: "今すぐロック" }).waitFor();
      await page.screenshot({ path: join(shots, "menu-with-passcode.png") });
    });

    assert(problems.length === 0, problems.join("\n"));
  } finally {
    await browser?.close();
    await stopServer(server);
    rmSync(work, { recursive: true, force: true });
  }
  return check;
}

finishJourneys(main);
