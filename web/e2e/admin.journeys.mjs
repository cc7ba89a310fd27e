// Administration journeys in Chromium against a real renkei server: an admin edits every
// field of a user and sees each saved (and a concurrent edit shown side by side); a CSV with
// errors is refused row by row, then imported; staff apply through the invite link and are
// approved. Screenshots of each journey's last screen go to web/test-results/.
//
//   node e2e/admin.journeys.mjs      (builds the binary with cargo unless RENKEI_BIN is set)

import { join } from "node:path";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, finishJourneys } from "./harness.mjs";

const DESKTOP = { width: 1280, height: 860 };
const ADMIN = { login: "admin", password: "admin-password-0001" };

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
    const dept = await api("POST", `/api/v1/orgs/${org.id}/departments`, { name: "救急科" });
    await api("POST", `/api/v1/orgs/${org.id}/departments`, { name: "放射線部" });
    const partner = await api("POST", "/api/v1/orgs", { name: "Beppu Medical Center" });
    const user = await api("POST", `/api/v1/orgs/${org.id}/users`, {
      login: "tanaka", display_name: "田中 一郎", kana: "たなか いちろう", profession: "nurse", password: "one-time password",
    });

    browser = await launchBrowser();
    const errors = [];
    const ctx = await browser.newContext({ viewport: DESKTOP, locale: "en-US", timezoneId: "Asia/Tokyo" });
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(`page error ${e.message}`));
    globalThis.openPages = [page];

    const openConsole = async () => {
      await page.getByRole("button", { name: "Menu" }).click();
      await page.getByRole("menuitem", { name: "Administration" }).click();
      await page.getByRole("heading", { name: "Administration" }).waitFor();
    };
    const openUser = async (name) => {
      await page.getByRole("button", { name: "Users", exact: true }).click();
      await page.getByRole("button", { name }).click();
      await page.getByRole("heading", { name }).waitFor();
    };

    await check.run("admin journey 1: every field of a user is edited, saved and read back; a concurrent edit shows both versions", async () => {
      await signIn(page, base, ADMIN, ADMIN.password);
      await page.getByRole("heading", { name: "Set a passcode" }).waitFor();
      await page.getByRole("button", { name: "Not now" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      await openConsole();
      await openUser("田中 一郎");
      const edits = {
        login: "tanaka.ichiro",
        display_name: "田中 一朗",
        kana: "たなか いちろう",
        romaji: "tanaka ichirou",
        email: "tanaka@oita-u.example",
        phone: "+81 97-549-4411",
        staff_number: "E-10234",
      };
      for (const [name, value] of Object.entries(edits)) await page.locator(`input[name="${name}"]`).fill(value);
      await page.locator('select[name="profession"]').selectOption("radiology_technologist");
      await page.locator('select[name="department_id"]').selectOption(dept.id);
      await page.locator('select[name="status"]').selectOption("suspended");
      await page.getByLabel("Organization administrator").check();
      await page.getByLabel("Second factor required").check();
      await page.getByRole("button", { name: "Add affiliation" }).click();
      await page.locator('input[name="affiliation-0-org_id"]').fill(partner.id);
      await page.locator('input[name="affiliation-0-department"]').fill("放射線科");
      await page.locator('input[name="affiliation-0-title"]').fill("非常勤");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await page.getByText("Saved (version 2).").waitFor();

      // Read back through the API: every field as entered.
      const saved = await api("GET", `/api/v1/users/${user.id}`);
      for (const [name, value] of Object.entries(edits)) assert(saved[name] === value, `${name}: ${saved[name]}`);
      assert(saved.profession === "radiology_technologist", "profession");
      assert(saved.department_id === dept.id, "department");
      assert(saved.status === "suspended", "status");
      assert(JSON.stringify(saved.roles) === '["org_admin"]', `roles ${saved.roles}`);
      assert(saved.second_factor_required === true, "second factor");
      assert(JSON.stringify(saved.affiliations) === JSON.stringify([{ org_id: partner.id, department: "放射線科", title: "非常勤" }]), "affiliations");

      // And through the UI after a reload: every input shows the saved value.
      await page.reload();
      // "Not now" on the passcode prompt holds until the next sign-in: a reload does not ask.
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      await openConsole();
      await openUser("田中 一朗");
      for (const [name, value] of Object.entries(edits)) {
        const shown = await page.locator(`input[name="${name}"]`).inputValue();
        assert(shown === value, `${name} shows ${shown}`);
      }
      assert((await page.locator('select[name="profession"]').inputValue()) === "radiology_technologist", "profession shown");
      assert((await page.locator('select[name="department_id"]').inputValue()) === dept.id, "department shown");
      assert((await page.locator('select[name="status"]').inputValue()) === "suspended", "status shown");
      assert(await page.getByLabel("Organization administrator").isChecked(), "role shown");
      assert(await page.getByLabel("Second factor required").isChecked(), "second factor shown");
      assert((await page.locator('input[name="affiliation-0-title"]').inputValue()) === "非常勤", "affiliation shown");

      // Someone else saves first: nothing of mine is lost silently, both versions are shown.
      await api("PATCH", `/api/v1/users/${user.id}`, { version: saved.version, phone: "0975-00-1111" });
      await page.locator('input[name="email"]').fill("ichiro@oita-u.example");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      const conflict = page.getByRole("alert", { name: "Someone else saved this first" });
      await conflict.waitFor();
      await conflict.getByRole("row", { name: /E-mail ichiro@oita-u\.example tanaka@oita-u\.example/ }).waitFor();
      await conflict.getByRole("row", { name: /Phone \/ extension \+81 97-549-4411 0975-00-1111/ }).waitFor();
      await page.screenshot({ path: join(results, "admin-journey1-both-versions.png") });
      await conflict.getByRole("button", { name: "Apply my changes to the saved version" }).click();
      await page.getByText("Saved (version 4).").waitFor();
      const after = await api("GET", `/api/v1/users/${user.id}`);
      assert(after.email === "ichiro@oita-u.example" && after.phone === "0975-00-1111", "my edit saved on top of theirs, theirs kept");
      await page.screenshot({ path: join(results, "admin-journey1-every-field.png"), fullPage: true });
    });

    await check.run("admin journey 2: a CSV with errors is refused row by row, then imported", async () => {
      await page.getByRole("button", { name: "Import / export" }).click();
      const bad = [
        "login,staff_number,display_name,kana,profession,department,email",
        "sato,E-1,佐藤 花子,さとう はなこ,nurse,救急科,sato@oita-u.example",
        "kato,E-2,加藤 健,かとう けん,surgeon,救急科,kato@oita-u.example",
        "ito,E-3,伊藤 誠,いとう まこと,doctor,眼科,not-an-email",
        "sato,E-4,佐藤 二郎,さとう じろう,doctor,,",
      ].join("\r\n");
      const file = page.locator('input[name="csv"]');
      await file.setInputFiles({ name: "staff.csv", mimeType: "text/csv", buffer: Buffer.from("\ufeff" + bad) });
      await page.getByRole("button", { name: "Check (dry run)" }).click();
      await page.getByText("4 problem(s) found. Nothing was imported.").waitFor();
      const table = page.locator(".admin-csv-errors");
      for (const [row, column, code] of [["3", "profession", "invalid_profession"], ["4", "department", "department_not_found"], ["4", "email", "invalid_email"], ["5", "login", "duplicate_row"]]) {
        await table.getByRole("row", { name: new RegExp(`^${row} ${column} ${code}`) }).waitFor();
      }
      assert(await page.getByRole("button", { name: "Import", exact: true }).isDisabled(), "no import before a clean check");
      await page.screenshot({ path: join(results, "admin-journey2-errors.png"), fullPage: true });
      const users = async () => (await api("GET", `/api/v1/orgs/${org.id}/users`)).map((u) => u.login).sort();
      const before = await users();

      const good = [
        "login,staff_number,display_name,kana,profession,department,email",
        "sato,E-1,佐藤 花子,さとう はなこ,nurse,救急科,sato@oita-u.example",
        "kato,E-2,加藤 健,かとう けん,doctor,救急科,kato@oita-u.example",
        "ito,E-3,伊藤 誠,いとう まこと,doctor,放射線部,",
      ].join("\r\n");
      await file.setInputFiles({ name: "staff.csv", mimeType: "text/csv", buffer: Buffer.from(good) });
      await page.getByRole("button", { name: "Check (dry run)" }).click();
      await page.getByText("Every row is valid: 3 to create, 0 to update, 0 unchanged. Nothing has changed yet.").waitFor();
      assert(JSON.stringify(await users()) === JSON.stringify(before), "the dry run changed nothing");
      await page.getByRole("button", { name: "Import", exact: true }).click();
      await page.getByText("Imported: 3 created, 0 updated, 0 unchanged.").waitFor();
      const passwords = await page.locator(".admin-csv-plan code").allInnerTexts();
      assert(passwords.filter((p) => p.length >= 10).length === 3, `one-time passwords shown: ${passwords}`);
      const now = await users();
      for (const login of ["sato", "kato", "ito"]) assert(now.includes(login), `${login} imported`);
      await page.screenshot({ path: join(results, "admin-journey2-imported.png"), fullPage: true });
    });

    await check.run("admin journey 3: staff apply through the invite link; the admin approves; statistics and seats show", async () => {
      await page.getByRole("button", { name: "Applications" }).click();
      await page.getByRole("button", { name: "Create link" }).click();
      const link = await page.locator(".admin-link").innerText();
      assert(link.startsWith(`${base}/signup/`), link);
      const applicant = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "ja-JP", timezoneId: "Asia/Tokyo", isMobile: true, hasTouch: true });
      const phone = await applicant.newPage();
      phone.on("pageerror", (e) => errors.push(`applicant page error ${e.message}`));
      await phone.goto(link);
      await phone.getByRole("heading", { name: "アカウントの利用申請" }).waitFor();
      await phone.getByLabel("氏名(漢字)").fill("鈴木 花子");
      await phone.getByLabel("ふりがな").fill("すずき はなこ");
      await phone.getByLabel("職種").selectOption("physical_therapist");
      await phone.getByLabel("診療科・部署").selectOption({ label: "救急科" });
      await phone.getByLabel("希望するログインID").fill("suzuki.pt");
      await phone.getByLabel("パスワード(10文字以上)").fill("my own password 1");
      await phone.getByLabel("パスワード(確認)").fill("my own password 1");
      await phone.getByRole("button", { name: "申請する" }).click();
      await phone.getByText("申請を送信しました。").waitFor();
      await phone.screenshot({ path: join(results, "admin-journey3-applied.png") });
      await applicant.close();

      await page.getByRole("button", { name: "Users", exact: true }).click();
      await page.getByRole("button", { name: "Applications" }).click();
      await page.getByText("Waiting for approval: 1").waitFor();
      await page.getByRole("row", { name: /鈴木 花子/ }).getByRole("button", { name: "Approve" }).click();
      await page.getByText("Waiting for approval: 0").waitFor();
      const approved = (await api("GET", `/api/v1/orgs/${org.id}/users`)).find((u) => u.login === "suzuki.pt");
      assert(approved?.status === "active", "approved applicant is active");

      await page.getByRole("button", { name: "Seats" }).click();
      await page.getByText("Active users now").waitFor();
      await page.getByRole("button", { name: "Statistics" }).click();
      await page.getByRole("img", { name: /Active users by profession/ }).waitFor();
      await page.getByRole("button", { name: "Policy" }).click();
      await page.getByLabel("PDF").uncheck();
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await page.getByText(/Saved \(version \d+\)\./).waitFor();
      assert((await api("GET", `/api/v1/orgs/${org.id}`)).policy.allowed_file_kinds.pdf === false, "policy saved");
      await page.getByRole("button", { name: "Statistics" }).click();
      await page.getByRole("img", { name: /Active users by profession/ }).waitFor();
      await page.screenshot({ path: join(results, "admin-journey3-statistics.png"), fullPage: true });
      // On a phone the console stays usable: the tabs scroll, the user list fits.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole("button", { name: "Users", exact: true }).click();
      await page.getByRole("button", { name: "鈴木 花子" }).waitFor();
      const overflow = await page.evaluate(() => document.querySelector(".admin-main").scrollWidth - document.querySelector(".admin-main").clientWidth);
      assert(overflow <= 1, `the user list fits a phone (overflow ${overflow}px)`);
      await page.screenshot({ path: join(results, "admin-journey3-phone.png") });
    });

    await check.run("no Content-Security-Policy violations or page errors in the admin console", async () => {
      assert(errors.length === 0, errors.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  log(`screenshots in ${results}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return check;
}

finishJourneys(main);
