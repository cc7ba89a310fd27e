// End-to-end journey of cooperation between hospitals: a council's admin invites two
// hospitals, both opt in, the council creates their agreement in one step; a doctor of one
// finds a doctor of the other in the directory and they chat; the council's statistics show
// each hospital's figures; revoking the agreement ends it.
//
//   node e2e/cooperation.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// The last screen of each side is saved in web/test-results/cooperation-*.png.

import { join } from "node:path";
import { serverBinary, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, finishJourneys, signInApi } from "./harness.mjs";

const PHONE = { width: 390, height: 780 };
const PASSWORD = "Cooperation-pass-2026";
const MESSAGE = "CT of the patient transferred to you: please look at the contrast phase.";
const REPLY = "Seen. Aortic dissection Stanford B; call me when the patient arrives.";


async function main() {
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  try {
    const admin = await firstAdmin(server);
    const org = (name, slug, kind) => json(base, "POST", "/api/v1/orgs", admin.token, { name, slug, kind });
    const oita = await org("Oita University Hospital", "oita-u", "hospital");
    const beppu = await org("Beppu Medical Center", "beppu", "hospital");
    const council = await org("Oita Regional Council", "oita-council", "council");
    const person = async (o, login, display_name, kana, profession, roles = []) => {
      await json(base, "POST", `/api/v1/orgs/${o.id}/users`, admin.token, { login, display_name, kana, profession, roles, password: "one-time-pass-1" });
      const s = await signInApi(base, login, "one-time-pass-1");
      await json(base, "PUT", "/api/v1/me/password", s.token, { current_password: "one-time-pass-1", new_password: PASSWORD });
      return { login };
    };
    const councilAdmin = await person(council, "council-admin", "事務局 一", "じむきょく はじめ", "clerk", ["org_admin"]);
    const oitaAdmin = await person(oita, "oita-admin", "大分 管理", "おおいた かんり", "clerk", ["org_admin"]);
    const beppuAdmin = await person(beppu, "beppu-admin", "別府 管理", "べっぷ かんり", "clerk", ["org_admin"]);
    const tanaka = await person(oita, "tanaka", "田中 一郎", "たなか いちろう", "doctor");
    const sato = await person(beppu, "sato", "佐藤 健", "さとう けん", "doctor");

    browser = await launchBrowser();
    const open = async (user) => {
      const ctx = await browser.newContext({ viewport: PHONE, locale: "en-US", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true });
      const page = await ctx.newPage();
      page.on("dialog", (d) => void d.accept());
      (globalThis.openPages ??= []).push(page);
      await signIn(page, base, user, PASSWORD);
      await page.getByRole("button", { name: "Not now" }).click();
      await page.getByRole("heading", { name: "Conversations" }).waitFor();
      return page;
    };
    const cooperation = async (page, tab) => {
      await page.getByRole("button", { name: "Menu" }).click();
      await page.getByRole("menuitem", { name: "Directory and partners" }).click();
      await page.getByRole("tab", { name: tab }).click();
    };
    const closeSheet = (page) => page.locator("dialog.coop").getByRole("button", { name: "Close" }).click();

    await check.run("a council invites two hospitals, both opt in, one action creates their agreement", async () => {
      const c = await open(councilAdmin);
      await cooperation(c, "Councils");
      for (const name of ["Oita University Hospital", "Beppu Medical Center"]) {
        await c.locator("select[name=invitee]").selectOption({ label: name });
        await c.getByRole("button", { name: "Invite a hospital" }).click();
        await c.locator(`li[data-org="${name}"]`, { hasText: "Invited" }).waitFor();
      }
      for (const who of [oitaAdmin, beppuAdmin]) {
        const p = await open(who);
        await cooperation(p, "Councils");
        const row = p.locator('li[data-council="Oita Regional Council"]');
        await row.getByRole("button", { name: "Opt in" }).click();
        await row.getByText("Opted in").waitFor();
        await p.context().close();
      }
      await c.getByRole("tab", { name: "Directory" }).click();
      await c.getByRole("tab", { name: "Councils" }).click();
      await c.locator('li[data-org="Beppu Medical Center"]', { hasText: "Opted in" }).waitFor();
      await c.getByRole("button", { name: "Create all agreements" }).click();
      await c.getByText("1 agreements created").waitFor();
      await c.screenshot({ path: join(results, "cooperation-council.png") });
      await c.context().close();
    });

    let pageT;
    let pageS;
    await check.run("staff of the two hospitals find each other in the directory and chat", async () => {
      pageT = await open(tanaka);
      pageS = await open(sato);
      await cooperation(pageT, "Directory");
      // An empty query lists people without claiming how they matched.
      await pageT.locator("dialog.coop li.coop-person").first().waitFor();
      assert((await pageT.locator("dialog.coop .coop-rank").count()) === 0, "no match tag on an empty query");
      await pageT.locator("dialog.coop").getByRole("searchbox").fill("ｻﾄｳ");
      const hit = pageT.locator("li.coop-person", { hasText: "佐藤 健" });
      await hit.getByText("Beppu Medical Center").waitFor();
      await hit.getByRole("button", { name: "Message" }).click();
      await pageT.getByRole("heading", { name: "佐藤 健" }).waitFor();
      // The header names the other person's hospital.
      await pageT.locator(".chat-subtitle", { hasText: "Beppu Medical Center" }).waitFor();
      await pageT.getByRole("textbox", { name: "Write a message" }).fill(MESSAGE);
      await pageT.getByRole("button", { name: "Send" }).click();
      await pageT.locator(".msg.mine:not(.pending)").getByText(MESSAGE).waitFor();
      const row = pageS.getByRole("button", { name: /田中 一郎/ });
      await row.click();
      await pageS.locator(".msg.theirs").getByText(MESSAGE).waitFor();
      await pageS.getByRole("textbox", { name: "Write a message" }).fill(REPLY);
      await pageS.getByRole("button", { name: "Send" }).click();
      await pageT.locator(".msg.theirs").getByText(REPLY).waitFor();
    });

    await check.run("the council's statistics show each member hospital's figures", async () => {
      const c = await open(councilAdmin);
      await c.getByRole("button", { name: "Menu" }).click();
      await c.getByRole("menuitem", { name: "Administration" }).click();
      await c.getByRole("button", { name: "Statistics" }).click();
      await c.getByRole("table", { name: /By member hospital/ }).waitFor();
      // Active users, messages, conversations, studies, photos, and across hospitals.
      const cells = async (slug) => (await c.locator(`tr[data-org="${slug}"] td`).allInnerTexts()).join(" ");
      const want = { "oita-u": "2 1 1 0 0 1 1", beppu: "2 1 0 0 0 1 1" };
      for (const [slug, figures] of Object.entries(want)) {
        await c.locator(`tr[data-org="${slug}"] th`).waitFor();
        assert((await cells(slug)) === figures, `${slug}: ${await cells(slug)} (want ${figures})`);
      }
      // The server's statistics days begin at midnight JST (its default offset, +540).
      const month = new Date(Date.now() + 540 * 60_000).toISOString().slice(5, 7);
      await c.getByRole("img", { name: new RegExp(`^Messages per month: .*${month}: 2$`) }).waitFor();
      await c.locator("select[name=member]").selectOption({ label: "Beppu Medical Center" });
      await c.getByRole("img", { name: new RegExp(`^Messages per month: .*${month}: 1$`) }).waitFor();
      await c.getByRole("img", { name: new RegExp(`^Conversations per month: .*${month}: 0$`) }).waitFor();
      const overflow = await c.evaluate(() => document.querySelector(".admin-main").scrollWidth - document.querySelector(".admin-main").clientWidth);
      assert(overflow <= 1, `the statistics page fits a phone; its wide table scrolls by itself (overflow ${overflow}px)`);
      await c.screenshot({ path: join(results, "cooperation-council-statistics.png"), fullPage: true });
      await c.context().close();
    });

    await check.run("revoking the agreement ends the conversation across the hospitals at once", async () => {
      const p = await open(oitaAdmin);
      await cooperation(p, "Partner hospitals");
      const row = p.locator('li[data-org="Beppu Medical Center"]');
      await row.getByText("In force").waitFor();
      await row.getByRole("button", { name: "Revoke" }).click();
      await row.getByText("Revoked").waitFor();
      await p.context().close();
      // Sato's open chat is closed and the conversation leaves the list, live.
      await pageS.getByRole("button", { name: /田中 一郎/ }).waitFor({ state: "detached" });
      await pageS.getByRole("heading", { name: "Conversations" }).waitFor();
      // Tanaka no longer finds Sato.
      await pageT.getByRole("button", { name: "Back" }).click().catch(() => {});
      await cooperation(pageT, "Directory");
      await pageT.locator("dialog.coop").getByRole("searchbox").fill("さとう");
      await pageT.getByText("No one found").waitFor();
      await pageT.screenshot({ path: join(results, "cooperation-revoked-oita.png") });
      await closeSheet(pageT);
      await pageS.screenshot({ path: join(results, "cooperation-revoked-beppu.png") });
      const sessionS = await signInApi(base, "sato", PASSWORD);
      const list = await json(base, "GET", "/api/v1/conversations", sessionS.token);
      assert(list.length === 0, `Beppu's doctor keeps no cross-hospital conversation: ${JSON.stringify(list)}`);
    });
  } finally {
    if (browser) await browser.close();
    await stopServer(server);
  }
  return check;
}

finishJourneys(main);
