// End-to-end journey of a conversation's shorter retention: a photo posted in a group that
// keeps media one day, and in a direct conversation that keeps the organization's three days.
// A day later the group shows it as expired while the direct conversation still shows it.
//
//   node e2e/retention.journeys.mjs     (builds the binary with cargo unless RENKEI_BIN is set)
//
// Screens (Japanese, phone size) are saved in web/test-results/retention-*.png.

import { deflateSync, crc32 } from "node:zlib";
import { join } from "node:path";
import { serverBinary, cli, firstAdmin, startServer, stopServer, json, Check, assert, launchBrowser, results, log, signIn, finishJourneys, signInApi } from "./harness.mjs";

const PHONE = { width: 390, height: 844 };
const PASSWORD = "Retention-pass-2026";
const GROUP = "創傷ケア";

/** A small valid PNG (RGB, one colour). */
function png(width, height) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0)]);
  for (let x = 0; x < width; x++) row.set([176, 58, 46], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}


async function main() {
  const bin = serverBinary();
  const server = await startServer(bin);
  const { base } = server;
  const check = new Check();
  let browser;
  try {
    const admin = await firstAdmin(server);
    const me = await json(base, "GET", "/api/v1/me", admin.token);
    const person = async (login, display_name, kana) => {
      const user = await json(base, "POST", `/api/v1/orgs/${me.organization.id}/users`, admin.token, { login, display_name, kana, profession: "doctor", password: "one-time-pass-1" });
      const s = await signInApi(base, login, "one-time-pass-1");
      await json(base, "PUT", "/api/v1/me/password", s.token, { current_password: "one-time-pass-1", new_password: PASSWORD });
      return { ...user, token: (await signInApi(base, login, PASSWORD)).token };
    };
    const tanaka = await person("tanaka", "田中 一郎", "たなか いちろう");
    const sato = await person("sato", "佐藤 健", "さとう けん");

    // Tanaka posts one photo in a group that keeps media one day, and in a direct conversation.
    const uploaded = await fetch(base + "/api/v1/media?name=wound.png", {
      method: "POST",
      headers: { authorization: `Bearer ${tanaka.token}`, "content-type": "image/png" },
      body: png(320, 240),
    });
    assert(uploaded.status === 201, `upload: ${uploaded.status}`);
    const photo = await uploaded.json();
    const group = await json(base, "POST", "/api/v1/conversations", tanaka.token, { kind: "group", title: GROUP, member_ids: [sato.id] });
    const direct = await json(base, "POST", "/api/v1/conversations", tanaka.token, { kind: "direct", member_ids: [sato.id] });
    for (const [conv, body] of [
      [group, "グループの写真"],
      [direct, "個別の写真"],
    ]) {
      await json(base, "POST", `/api/v1/conversations/${conv.id}/messages`, tanaka.token, { client_msg_id: conv.id, body, attachments: [{ kind: "media", id: photo.id }] });
    }
    await json(base, "PATCH", `/api/v1/conversations/${group.id}`, tanaka.token, { retention_days: 1 });
    const later = new Date(Date.now() + 86_400_000 + 60_000).toISOString();
    const out = cli(bin, server.dataDir, ["expire-media", "--as-of", later]);
    assert(out.includes("0 media expired"), `nothing destroyed: ${out}`);

    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    ctx.setDefaultTimeout(20_000);
    const page = await ctx.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error ${e.message}`));
    globalThis.openPages = [page];
    await signIn(page, base, { login: "sato" }, PASSWORD);
    await page.getByRole("button", { name: "あとで" }).click();
    await page.getByRole("heading", { name: "トーク" }).waitFor();

    await check.run("retention journey: the group shows the photo as expired, the direct conversation still shows it", async () => {
      await page.getByRole("button", { name: new RegExp(GROUP) }).click();
      const inGroup = page.locator(".msg", { hasText: "グループの写真" });
      await inGroup.getByText("保存期間が過ぎたため削除されました").waitFor();
      assert((await inGroup.locator(".photo-thumb").count()) === 0, "no thumbnail in the group");
      await page.screenshot({ path: join(results, "retention-group-expired-ja-phone.png") });

      await page.getByRole("button", { name: "戻る" }).first().click();
      await page.getByRole("heading", { name: "トーク" }).waitFor();
      await page.getByRole("button", { name: /田中 一郎/ }).first().click();
      const inDirect = page.locator(".msg", { hasText: "個別の写真" });
      await inDirect.locator(".photo-thumb img").waitFor();
      await page.waitForFunction(() => [...document.querySelectorAll(".photo-thumb img")].some((i) => i.naturalWidth > 0));
      assert((await inDirect.getByText("保存期間が過ぎたため削除されました").count()) === 0, "not expired in the direct conversation");
      await page.screenshot({ path: join(results, "retention-direct-kept-ja-phone.png") });
      assert(problems.length === 0, problems.join("\n"));
    });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  return check;
}

finishJourneys(main);
