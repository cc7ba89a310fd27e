// Call set-up in Chromium on loopback (issue 20's benchmark; bench/call-setup.sh runs it): two
// phone-sized contexts with the fake camera make N 1:1 video calls (after one warm-up call)
// through the web client and a real server. Each page notes, with its own clock (one machine,
// one clock): the tap on the call button (caller), the incoming-call dialog appearing
// (callee), the tap on "answer with video" (callee), and the first remote video frame
// presented on each side (`requestVideoFrameCallback`). Prints p50 / p90 / max of
//   call tap → ring shown on the callee,
//   answer tap → first remote frame on the caller, on the callee, and on both.
//
//   node e2e/call-setup.bench.mjs [CALLS]     (default 10; RENKEI_BIN or a cargo debug build)
//
// Not a journey (no *.journeys.mjs): scripts/test.sh does not run it.

import { serverBinary, firstAdmin, createUsers, startServer, stopServer, json, launchBrowser, log } from "./harness.mjs";
import { A, B, MEDIA_FLAGS, apiUser, signInJa, callPage, remoteVideosPlay, openConversation } from "./calls-helpers.mjs";

const CALLS = Number(process.argv[2] ?? process.env.CALLS ?? 10);

/** An init script: `window.__probe.arm()` starts a new set of marks (`tap`: the first click,
 *  `ring`: an incoming-call dialog, `frame`: the first frame a remote video presents, `sized`:
 *  the first poll that sees a remote video with a size); `window.__probe.marks` reads them. */
function probeCallSetup() {
  const REMOTE = "video:not(.call-self):not(.mirror)";
  let marks = null;
  let seen = new WeakSet();
  const look = () => {
    const m = marks;
    if (!m) return;
    if (m.ring === undefined && document.querySelector('[role="alertdialog"]')) m.ring = Date.now();
    for (const v of document.querySelectorAll(REMOTE)) {
      if (m.sized === undefined && !v.muted && v.videoWidth > 0) m.sized = Date.now();
      if (seen.has(v)) continue;
      seen.add(v);
      v.requestVideoFrameCallback(() => {
        if (m.frame === undefined && !v.muted) m.frame = Date.now();
      });
    }
  };
  document.addEventListener("click", () => marks && marks.tap === undefined && (marks.tap = Date.now()), true);
  new MutationObserver(look).observe(document, { childList: true, subtree: true });
  setInterval(look, 5);
  window.__probe = {
    arm() {
      marks = {};
      seen = new WeakSet();
      look();
    },
    get marks() {
      return marks;
    },
  };
}

/** Nearest-rank percentile of sorted numbers. */
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(name, values) {
  const s = [...values].sort((x, y) => x - y);
  return { name, n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), max: s[s.length - 1] };
}

/** One call: A taps video call, B answers when it rings, both see the other, A hangs up. */
async function oneCall(pageA, pageB) {
  for (const page of [pageA, pageB]) await page.evaluate(() => window.__probe.arm());
  await pageA.getByRole("button", { name: "ビデオ通話" }).click();
  await pageB.getByRole("alertdialog", { name: A.name }).getByRole("button", { name: "ビデオで応答" }).click();
  await Promise.all([remoteVideosPlay(pageA, 1), remoteVideosPlay(pageB, 1)]);
  for (const page of [pageA, pageB]) await page.waitForFunction(() => window.__probe.marks.frame !== undefined || window.__probe.marks.sized !== undefined);
  const [a, b] = await Promise.all([pageA, pageB].map((p) => p.evaluate(() => ({ ...window.__probe.marks }))));
  await pageA.getByRole("button", { name: "終了", exact: true }).click();
  await pageB.getByText("通話終了").waitFor();
  await pageB.getByRole("button", { name: "閉じる", exact: true }).click();
  for (const page of [pageA, pageB]) await page.waitForFunction(() => window.__pcs.every((pc) => pc.connectionState === "closed"));
  await pageA.locator(".call-screen").waitFor({ state: "detached" });
  const frameA = a.frame ?? a.sized;
  const frameB = b.frame ?? b.sized;
  return {
    ring: b.ring - a.tap,
    answerToCaller: frameA - b.tap,
    answerToCallee: frameB - b.tap,
    answerToBoth: Math.max(frameA, frameB) - b.tap,
    rvfc: a.frame !== undefined && b.frame !== undefined,
  };
}

async function main() {
  const bin = serverBinary();
  const server = await startServer(bin);
  let browser;
  try {
    const { base } = server;
    await firstAdmin(server);
    createUsers(bin, server, [A, B]);
    const a = await apiUser(base, A);
    const b = await apiUser(base, B);
    const ab = (await json(base, "POST", "/api/v1/conversations", a.token, { kind: "direct", member_ids: [b.id] })).id;
    await json(base, "POST", `/api/v1/conversations/${ab}/messages`, a.token, { client_msg_id: "hello", body: "CTの件で相談させてください。" });

    browser = await launchBrowser(MEDIA_FLAGS);
    const problems = [];
    const pageA = await callPage(browser, "A", problems);
    const pageB = await callPage(browser, "B", problems);
    for (const page of [pageA, pageB]) await page.context().addInitScript(probeCallSetup);
    await signInJa(pageA, base, A);
    await signInJa(pageB, base, B);
    await openConversation(pageA, B.name);

    const warm = await oneCall(pageA, pageB);
    log(`warm-up call: ${JSON.stringify(warm)}`);
    const runs = [];
    for (let i = 0; i < CALLS; i++) {
      const r = await oneCall(pageA, pageB);
      log(`call ${i + 1}/${CALLS}: ${JSON.stringify(r)}`);
      runs.push(r);
      await pageA.waitForTimeout(300);
    }
    if (problems.length) throw new Error(problems.join("\n"));
    if (!runs.every((r) => r.rvfc)) log("some first frames came from polling videoWidth (requestVideoFrameCallback did not fire)");
    const rows = [
      summary("call tap → ring shown on the callee", runs.map((r) => r.ring)),
      summary("answer tap → first remote frame on the caller", runs.map((r) => r.answerToCaller)),
      summary("answer tap → first remote frame on the callee", runs.map((r) => r.answerToCallee)),
      summary("answer tap → first remote frame on both", runs.map((r) => r.answerToBoth)),
    ];
    console.log(`\n| ${CALLS} calls | p50 (ms) | p90 (ms) | max (ms) |\n|---|---:|---:|---:|`);
    for (const r of rows) console.log(`| ${r.name} | ${r.p50} | ${r.p90} | ${r.max} |`);
    console.log(`\n${JSON.stringify({ calls: CALLS, rows })}`);
  } finally {
    await browser?.close();
    await stopServer(server);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
