// Administration on a phone in Japanese (390×844, ja-JP), in Chromium against a real server:
// the audit log opens and shows what changed (and a screen that fails offers a way back
// instead of freezing the app); departments are added and renamed; a DICOM peer is added
// only with an address; a refused upload says why in Japanese with no pointless retry; a
// CSV import's errors are Japanese; a new user is created with e-mail, phone, staff number
// and a role. Screenshots of each step go to web/test-results/ (and SHOTS_DIR if set).
//
//   node e2e/admin2.journeys.mjs      (builds the binary with cargo unless RENKEI_BIN is set)

import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, finishJourneys } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const ADMIN = { login: "admin", password: "admin-password-0001" };
const shotsDir = process.env.SHOTS_DIR;
if (shotsDir) mkdirSync(shotsDir, { recursive: true });

async function main() {
  const started = Date.now();
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  try {
    const { token } = await firstAdmin(server);
    const api = (method, path, body) => json(base, method, path, token, body);
    const org = (await api("GET", "/api/v1/me")).organization;
    // Something for the audit log to show: a user whose name and e-mail were changed.
    const tanaka = await api("POST", `/api/v1/orgs/${org.id}/users`, {
      login: "tanaka", display_name: "田中 一郎", kana: "たなか いちろう", profession: "nurse", password: "one-time password",
    });
    await api("PATCH", `/api/v1/users/${tanaka.id}`, { version: tanaka.version, display_name: "田中 一朗", email: "tanaka@oita-u.example" });
    const group = await api("POST", "/api/v1/conversations", { kind: "group", title: "救急外来 申し送り", member_ids: [tanaka.id] });

    browser = await launchBrowser();
    const errors = [];
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", deviceScaleFactor: 1, hasTouch: true, isMobile: true });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(`page error ${e.message}`));
    globalThis.openPages = [page];
    const shot = async (name) => {
      await page.screenshot({ path: join(results, `admin2-${name}.png`) });
      if (shotsDir) await page.screenshot({ path: join(shotsDir, `${name}.png`) });
    };

    const openConsole = async () => {
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).click();
      await page.getByRole("heading", { name: "管理コンソール" }).waitFor();
    };
    const auditList = (url) => url.pathname === "/api/v1/audit";
    const tab = (name) => page.locator(".admin-tabs").getByRole("button", { name, exact: true }).click();

    await check.run("admin2 journey 1: the audit log opens on a phone and shows each change as before → after", async () => {
      await signIn(page, base, ADMIN, ADMIN.password);
      await page.getByRole("heading", { name: "パスコードの設定" }).waitFor();
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await openConsole();
      await tab("監査ログ");
      const details = page.locator(".audit-details").first();
      await details.waitFor();
      const row = page.locator(".admin-audit tbody tr", { hasText: "user.update" }).first();
      await row.getByText("田中 一郎").waitFor();
      await row.getByText("田中 一朗").waitFor();
      assert((await row.locator("del").first().textContent()) === "田中 一郎", "before shown struck through");
      assert((await row.locator("ins").first().textContent()) === "田中 一朗", "after shown");
      assert(!(await page.getByText("この画面を表示できませんでした").isVisible()), "no failure notice");
      await shot("1-audit-details");
      // Closing the console leaves nothing over the app: the menu opens again.
      await page.locator(".admin-top").getByRole("button", { name: "閉じる" }).click();
      assert((await page.locator(".admin-host").count()) === 0, "the console's host layer is gone");
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).waitFor();
      await page.keyboard.press("Escape");
    });

    await check.run("admin2 journey 1b: a screen that fails shows a way back, and going back leaves the app usable", async () => {
      // A broken answer makes the audit page fail to render.
      await page.route(auditList, (route) => route.fulfill({ status: 200, contentType: "application/json", body: '{"unexpected": true}' }));
      await openConsole();
      await tab("監査ログ");
      const notice = page.getByRole("alert").filter({ hasText: "この画面を表示できませんでした" });
      await notice.waitFor();
      // The other tabs still work inside the console.
      await shot("1b-screen-failed");
      await notice.getByRole("button", { name: "戻る" }).click();
      await page.getByRole("heading", { name: "管理コンソール" }).waitFor({ state: "detached" });
      assert((await page.locator(".admin-host").count()) === 0, "no invisible layer stays over the app");
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).waitFor();
      await page.keyboard.press("Escape");
      await page.unroute(auditList);
    });

    await check.run("admin2 journey 2: departments are added and renamed", async () => {
      await openConsole();
      await tab("部署");
      await page.getByLabel("新しい部署").fill("循環器内科");
      await page.getByRole("button", { name: "追加", exact: true }).click();
      await page.getByText("循環器内科 を追加しました。").waitFor();
      await page.getByRole("button", { name: "循環器内科 の名前を変更" }).click();
      await page.locator('input[name="rename"]').fill("循環器内科・心臓血管外科");
      await page.getByRole("button", { name: "保存", exact: true }).click();
      await page.getByText("循環器内科・心臓血管外科 に変更しました。").waitFor();
      const names = (await api("GET", `/api/v1/orgs/${org.id}/departments`)).map((d) => d.name);
      assert(JSON.stringify(names) === '["循環器内科・心臓血管外科"]', `departments ${names}`);
      const overflow = await page.evaluate(() => document.querySelector(".admin-main").scrollWidth - document.querySelector(".admin-main").clientWidth);
      assert(overflow <= 1, `the page fits a phone (overflow ${overflow}px)`);
      await shot("2-departments");
    });

    await check.run("admin2 journey 3: a DICOM peer needs an address; added, edited, and a gateway gets its token", async () => {
      await tab("画像連携");
      await page.locator('input[name="ae_title"]').fill("ct01");
      await page.getByRole("button", { name: "接続元を追加" }).click();
      await page.getByText("送信元のアドレスを1つ以上入力してください。").waitFor();
      assert((await api("GET", `/api/v1/orgs/${org.id}/dicom-peers`)).length === 0, "nothing added without an address");
      await page.locator('textarea[name="allow"]').fill("10.1.2.3\n10.1.3.0/24");
      await page.getByRole("button", { name: "接続元を追加" }).click();
      await page.getByText("CT01 を追加しました。").waitFor();
      await page.getByRole("button", { name: "アドレスを編集" }).click();
      await page.locator('textarea[name="edit-allow"]').fill("10.1.2.3");
      await page.getByRole("button", { name: "保存", exact: true }).click();
      await page.getByText("CT01 のアドレスを保存しました。").waitFor();
      const peers = await api("GET", `/api/v1/orgs/${org.id}/dicom-peers`);
      assert(peers.length === 1 && peers[0].ae_title === "CT01" && JSON.stringify(peers[0].allow) === '["10.1.2.3/32"]', JSON.stringify(peers));
      await page.locator('input[name="gateway-name"]').fill("main-building");
      await page.getByRole("button", { name: "ゲートウェイを追加" }).click();
      await page.getByText("main-building のトークン").waitFor();
      assert(((await page.locator(".admin-secret").textContent()) ?? "").length >= 32, "the token is shown once");
      const overflow = await page.evaluate(() => document.querySelector(".admin-main").scrollWidth - document.querySelector(".admin-main").clientWidth);
      assert(overflow <= 1, `the page fits a phone (overflow ${overflow}px)`);
      await shot("3-dicom-peers");
    });

    await check.run("admin2 journey 4: CSV import errors are Japanese", async () => {
      await tab("インポート/エクスポート");
      const bad = [
        "login,staff_number,display_name,kana,profession,department",
        "sato,E-1,佐藤 花子,さとう はなこ,nurse,",
        "sato,E-2,佐藤 二郎,さとう じろう,doctor,",
        "ito,E-3,伊藤 誠,いとう まこと,doctor,眼科",
      ].join("\r\n");
      await page.locator('input[name="csv"]').setInputFiles({ name: "staff.csv", mimeType: "text/csv", buffer: Buffer.from("\ufeff" + bad) });
      await page.getByRole("button", { name: "確認(ドライラン)" }).click();
      const table = page.locator(".admin-csv-errors");
      await table.getByText("部署「眼科」はありません。先に管理画面の「部署」で作成してください").waitFor();
      await table.getByText("2行目と同じログインIDです").waitFor();
      assert(!(await table.getByText("create it first").count()), "no English left");
      await table.scrollIntoViewIfNeeded();
      await shot("4-csv-errors");
    });

    await check.run("admin2 journey 5: a new user is created with e-mail, phone, staff number and a role", async () => {
      await tab("ユーザー");
      await page.getByRole("button", { name: "ユーザーを追加" }).click();
      const fields = { login: "suzuki", display_name: "鈴木 花子", kana: "すずき はなこ", email: "suzuki@oita-u.example", phone: "097-549-4411", staff_number: "N-204" };
      for (const [name, value] of Object.entries(fields)) await page.locator(`form input[name="${name}"]`).fill(value);
      await page.locator('select[name="profession"]').selectOption("doctor");
      await page.getByLabel("組織管理者").check();
      await page.locator('input[name="password"]').fill("one-time password 1");
      await shot("5-new-user-form");
      await page.getByRole("button", { name: "作成", exact: true }).click();
      await page.getByRole("button", { name: "ユーザーを追加" }).waitFor();
      const created = (await api("GET", `/api/v1/orgs/${org.id}/users`)).find((u) => u.login === "suzuki");
      assert(created, "created");
      assert(created.email === fields.email, `email ${created.email}`);
      assert(created.staff_number === fields.staff_number, `staff number ${created.staff_number}`);
      assert(created.phone === fields.phone, `phone ${created.phone}`);
      assert(JSON.stringify(created.roles) === '["org_admin"]', `roles ${created.roles}`);
      await page.locator(".admin-top").getByRole("button", { name: "閉じる" }).click();
    });

    await check.run("admin2 journey 6: a refused upload says why in Japanese, with no retry", async () => {
      const current = await api("GET", `/api/v1/orgs/${org.id}`);
      await api("PATCH", `/api/v1/orgs/${org.id}`, {
        version: current.version,
        policy: { ...current.policy, allowed_file_kinds: { ...current.policy.allowed_file_kinds, video: false } },
      });
      await page.getByRole("button", { name: /救急外来 申し送り/ }).click();
      // An MP4 header: sniffed as a video, refused by the policy before anything is stored.
      const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypmp42"), Buffer.alloc(12), Buffer.from([0, 0, 0, 8]), Buffer.from("free")]);
      await page.locator('input[type="file"]:not([capture])').setInputFiles({ name: "clip.mp4", mimeType: "video/mp4", buffer: mp4 });
      const tray = page.locator(".upload-tray");
      await tray.getByText("動画の送信はこの病院の設定で許可されていません").waitFor();
      assert((await tray.getByRole("button", { name: "再送" }).count()) === 0, "no retry for a permanent refusal");
      await shot("6-upload-refused");
    });

    await check.run("admin2 journey 7: an invite link says until when it works; once withdrawn its sign-up page says so", async () => {
      await page.goBack();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).click();
      await tab("利用申請");
      await page.locator('select[name="invite-days"]').selectOption("7");
      await page.getByRole("button", { name: "リンクを作成" }).click();
      const link = await page.locator(".admin-link").innerText();
      await page.getByText(/まで有効です。/).waitFor();
      const invite = await api("GET", `/api/v1/orgs/${org.id}/invite`);
      const days = (Date.parse(invite.expires_at) - Date.parse(invite.created_at)) / 86_400_000;
      assert(days === 7, `the link works for ${days} days`);
      await page.getByRole("button", { name: "リンクを無効にする" }).click();
      await page.getByRole("button", { name: "無効にする(すぐに使えなくなります)" }).click();
      await page.getByText(/無効にされました。新しいリンクを作成してください。/).waitFor();
      await shot("7-invite-withdrawn");
      const applicant = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", isMobile: true, hasTouch: true });
      const phone = await applicant.newPage();
      await phone.goto(link);
      await phone.getByText("この招待リンクは病院の管理者によって無効にされました。新しいリンクを依頼してください。").waitFor();
      await phone.screenshot({ path: join(results, "admin2-7-signup-withdrawn.png") });
      if (shotsDir) await phone.screenshot({ path: join(shotsDir, "7-signup-withdrawn.png") });
      await applicant.close();
    });

    await check.run("no Content-Security-Policy violations or page errors", async () => {
      const unexpected = errors.filter((e) => !/entries\.map|is not a function/.test(e));
      assert(unexpected.length === 0, unexpected.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  log(`screenshots in ${results}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return check;
}

finishJourneys(main);
