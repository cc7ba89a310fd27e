// End-to-end journey of the organization's message retention (issue 24): the administrator
// sets it on the policy page; three days later (an expiry sweep run with --as-of) a member
// opens the group and sees the line where the older messages were destroyed, not the messages.
//
//   node e2e/message_retention.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Screens (Japanese, phone size) are saved in web/test-results/message-retention-*.png.

import { join } from "node:path";
import { serverBinary, cli, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, signIn, finishJourneys, signInApi } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const PASSWORD = "Retention-pass-2026";
const ADMIN_PASSWORD = "admin-password-0001";
const GROUP = "病棟連絡";
const SECRET = "退院は明日の予定です";
const EXPIRED = "以前のメッセージは保存期間を過ぎたため削除されました";


async function main() {
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  try {
    const admin = await firstAdmin(server);
    const me = await json(base, "GET", "/api/v1/me", admin.token);
    const orgId = me.organization.id;
    const person = async (login, display_name, kana) => {
      const user = await json(base, "POST", `/api/v1/orgs/${orgId}/users`, admin.token, { login, display_name, kana, profession: "doctor", password: "one-time-pass-1" });
      const s = await signInApi(base, login, "one-time-pass-1");
      await json(base, "PUT", "/api/v1/me/password", s.token, { current_password: "one-time-pass-1", new_password: PASSWORD });
      return { ...user, token: (await signInApi(base, login, PASSWORD)).token };
    };
    const tanaka = await person("tanaka", "田中 一郎", "たなか いちろう");
    const sato = await person("sato", "佐藤 健", "さとう けん");
    const group = await json(base, "POST", "/api/v1/conversations", tanaka.token, { kind: "group", title: GROUP, member_ids: [sato.id] });
    await json(base, "POST", `/api/v1/conversations/${group.id}/messages`, tanaka.token, { client_msg_id: "m1", body: SECRET });

    browser = await launchBrowser();
    const context = () => browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });

    await check.run("message retention journey 1: the administrator keeps messages for one day on the policy page", async () => {
      const ctx = await context();
      ctx.setDefaultTimeout(20_000);
      const page = await ctx.newPage();
      globalThis.openPages = [page];
      await signIn(page, base, { login: "admin" }, ADMIN_PASSWORD);
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: "メニュー" }).click();
      await page.getByRole("menuitem", { name: "管理" }).click();
      await page.getByRole("heading", { name: "管理コンソール" }).waitFor();
      await page.getByRole("button", { name: "ポリシー" }).click();
      const days = page.locator('input[name="message_retention_days"]');
      assert((await days.inputValue()) === "", "off by default");
      await days.fill("1");
      await page.getByRole("button", { name: "保存", exact: true }).click();
      await page.getByText(/保存しました/).waitFor();
      await page.screenshot({ path: join(results, "message-retention-policy-ja-phone.png"), fullPage: true });
      const org = await json(base, "GET", `/api/v1/orgs/${orgId}`, admin.token);
      assert(org.policy.message_retention_days === 1, `saved: ${JSON.stringify(org.policy)}`);
      await ctx.close();
    });

    await check.run("message retention journey 2: three days later the group shows where its messages expired", async () => {
      const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
      const out = cli(bin, server.dataDir, ["expire-media", "--as-of", later]);
      assert(out.includes("1 messages expired"), `one message destroyed: ${out}`);
      const found = await json(base, "GET", `/api/v1/search/messages?q=${encodeURIComponent("退院")}`, sato.token);
      assert(found.length === 0, `not found any more: ${JSON.stringify(found)}`);

      const ctx = await context();
      ctx.setDefaultTimeout(20_000);
      const page = await ctx.newPage();
      const problems = [];
      page.on("pageerror", (e) => problems.push(`page error ${e.message}`));
      globalThis.openPages = [page];
      await signIn(page, base, { login: "sato" }, PASSWORD);
      await page.getByRole("button", { name: "あとで" }).click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: new RegExp(GROUP) }).click();
      await page.getByText(EXPIRED).waitFor();
      assert((await page.getByText(SECRET).count()) === 0, "the message is gone");
      await page.screenshot({ path: join(results, "message-retention-expired-ja-phone.png") });
      assert(problems.length === 0, problems.join("\n"));
      await ctx.close();
    });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  return check;
}

finishJourneys(main);
