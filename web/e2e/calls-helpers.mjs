// What the call journeys (calls.journeys.mjs) and the call set-up benchmark
// (call-setup.bench.mjs) share: the people, signing in, phone-sized browser contexts whose peer
// connections can be inspected (and forced through TURN), getStats readings, and a coturn of
// our own on loopback.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { json, freePort, log } from "./harness.mjs";

export const PHONE = { width: 390, height: 844 };
export const A = { login: "sato", name: "佐藤 花子", kana: "さとう はなこ", profession: "doctor", first: "Onetime-A-123", password: "A-strong-password-1" };
export const B = { login: "tanaka", name: "田中 一郎", kana: "たなか いちろう", profession: "doctor", first: "Onetime-B-123", password: "B-strong-password-1" };
export const C = { login: "suzuki", name: "鈴木 健太", kana: "すずき けんた", profession: "nurse", first: "Onetime-C-123", password: "C-strong-password-1" };
/** Someone with a passcode, whose browser session starts locked. */
export const D = { login: "yamada", name: "山田 美咲", kana: "やまだ みさき", profession: "doctor", first: "Onetime-D-123", password: "D-strong-password-1", passcode: "246810" };

/** Chromium's fake camera and microphone, granted without asking, and video that plays unmuted. */
export const MEDIA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required"];

/** Signs in over the API and replaces the one-time password; returns the bearer token and id. */
export async function apiUser(base, u) {
  const login = async (password) =>
    (
      await fetch(base + "/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ login: u.login, password }),
      })
    ).json();
  const first = await login(u.first);
  await json(base, "PUT", "/api/v1/me/password", first.token, { current_password: u.first, new_password: u.password });
  const again = await login(u.password);
  return { token: again.token, id: again.user.id };
}

/** Signs in through the Japanese form and waits for the list (declining a passcode). */
export async function signInJa(page, base, u) {
  await page.goto(base + "/");
  await page.getByLabel("ユーザーID").fill(u.login);
  await page.getByLabel("パスワード", { exact: true }).fill(u.password);
  await page.getByRole("button", { name: "ログイン" }).click();
  const later = page.getByRole("button", { name: "あとで" });
  const list = page.getByRole("heading", { name: "トーク" });
  await later.or(list).first().waitFor();
  if (await later.isVisible()) await later.click();
  await list.waitFor();
}

/** An init script: every RTCPeerConnection the page makes is kept in window.__pcs (for
 *  getStats). With `relay`, each one is made with `iceTransportPolicy: "relay"`: only TURN
 *  relay candidates, as on a network that lets no direct path through (the app itself has no
 *  such switch). */
export function watchPeers({ relay = false } = {}) {
  const Native = window.RTCPeerConnection;
  const policy = (config) => (relay ? { ...config, iceTransportPolicy: "relay" } : config);
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config = {}, ...rest) {
      super(policy(config), ...rest);
      window.__pcs.push(this);
    }
    setConfiguration(config = {}) {
      return super.setConfiguration(policy(config));
    }
  };
}

/** A phone-sized Japanese browser context whose page errors and CSP refusals go to `problems`;
 *  `relay` forces its peer connections through TURN (see `watchPeers`). Returns its page. */
export async function callPage(browser, who, problems, { relay = false } = {}) {
  const ctx = await browser.newContext({ viewport: PHONE, locale: "ja-JP", timezoneId: "Asia/Tokyo", hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
  ctx.setDefaultTimeout(20_000);
  await ctx.addInitScript(watchPeers, { relay });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => problems.push(`${who}: page error ${e.message}`));
  page.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && problems.push(`${who}: ${m.text()}`));
  return page;
}

/** What the page's open peer connections received so far; `videos`: frames decoded by each
 *  incoming video stream (a stream that went, with its sender, drops out of the totals). */
export function received(page) {
  return page.evaluate(async () => {
    const out = { frames: 0, audioPackets: 0, connected: 0, open: 0, videos: {} };
    for (const [i, pc] of window.__pcs.entries()) {
      if (pc.connectionState === "closed") continue;
      out.open++;
      if (pc.connectionState === "connected") out.connected++;
      (await pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp") return;
        if (r.kind === "video") out.videos[`${i}/${r.id}`] = r.framesDecoded ?? 0;
        if (r.kind === "video") out.frames += r.framesDecoded ?? 0;
        if (r.kind === "audio") out.audioPackets += r.packetsReceived ?? 0;
      });
    }
    return out;
  });
}

/** Waits until the incoming video streams of the page decoded `by` more frames than now (the
 *  call goes on), a stream that starts meanwhile (a link just negotiated) counting from 0;
 *  returns the two readings and how long it took. */
export async function framesRise(page, by = 15, timeout = 10_000) {
  const started = Date.now();
  const before = await received(page);
  const deadline = started + timeout;
  for (;;) {
    const now = await received(page);
    // A video that was not there at first (its link was just negotiated) counts from 0.
    const rise = Object.entries(now.videos).reduce((sum, [id, n]) => sum + n - (before.videos[id] ?? 0), 0);
    if (rise >= by) return { before, after: now, ms: Date.now() - started };
    if (Date.now() > deadline) throw new Error(`video frames did not rise by ${by} in ${timeout} ms: ${before.frames} → ${now.frames} (${JSON.stringify(now)})`);
    await page.waitForTimeout(200);
  }
}

/** The ICE username fragment of each open link's local description (it changes on a restart). */
export function iceUfrags(page) {
  return page.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== "closed").map((pc) => /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? "")?.[1] ?? null));
}

/** The candidate types (host, srflx, prflx, relay) of each open link's selected pair. */
export function selectedPairs(page) {
  return page.evaluate(async () => {
    const pairs = [];
    for (const pc of window.__pcs) {
      if (pc.connectionState === "closed") continue;
      const stats = new Map();
      (await pc.getStats()).forEach((r) => stats.set(r.id, r));
      const transport = [...stats.values()].find((r) => r.type === "transport" && r.selectedCandidatePairId);
      const pair = transport ? stats.get(transport.selectedCandidatePairId) : null;
      if (!pair) {
        pairs.push(null);
        continue;
      }
      const local = stats.get(pair.localCandidateId);
      const remote = stats.get(pair.remoteCandidateId);
      pairs.push({
        state: pair.state,
        local: local?.candidateType,
        localAddress: `${local?.address}:${local?.port}`,
        localRelayProtocol: local?.relayProtocol,
        remote: remote?.candidateType,
        remoteAddress: `${remote?.address}:${remote?.port}`,
      });
    }
    return pairs;
  });
}

/** Waits until `count` remote videos of the page play (a decoded picture of some size). */
export async function remoteVideosPlay(page, count, selector = "video:not(.call-self):not(.mirror)") {
  try {
    await page.waitForFunction(
      ([sel, n]) => [...document.querySelectorAll(sel)].filter((v) => !v.muted && v.videoWidth > 0 && !v.paused).length >= n,
      [selector, count],
      { timeout: 30_000 },
    );
  } catch (e) {
    // Say where the links stood: signalling, ICE, and the candidates each side knows.
    const links = await page.evaluate(() =>
      Promise.all(
        window.__pcs.map(async (pc) => {
          const kinds = {};
          (await pc.getStats()).forEach((r) => (kinds[r.type] = (kinds[r.type] ?? 0) + 1));
          return `${pc.signalingState}/${pc.iceConnectionState}/${pc.connectionState} local=${pc.localDescription?.type} remote=${pc.remoteDescription?.type} ${JSON.stringify(kinds)}`;
        }),
      ),
    );
    throw new Error(`${e.message}\n  links: ${links.join("\n  ")}`);
  }
}

export async function openConversation(page, name) {
  await page.getByRole("button", { name: new RegExp(name) }).first().click();
  await page.getByRole("heading", { name }).waitFor();
}

/** Whether coturn's `turnserver` is installed (scripts/setup.sh installs it). */
export function coturnInstalled() {
  return !spawnSync("turnserver", ["--version"], { encoding: "utf8" }).error;
}

/** Starts coturn on loopback as docs/CALLS.md configures it (`use-auth-secret` with
 *  `static-auth-secret`), except that it relays to loopback peers, which only a test on one
 *  machine needs. Returns `{url, stop(), log()}` once it listens. */
export async function startCoturn(secret) {
  const dir = mkdtempSync(join(tmpdir(), "renkei-e2e-turn-"));
  const port = await freePort();
  const logFile = join(dir, "turn.log");
  const out = openSync(logFile, "w");
  const child = spawn(
    "turnserver",
    [
      "-n",
      "--listening-ip=127.0.0.1",
      "--relay-ip=127.0.0.1",
      `--listening-port=${port}`,
      "--use-auth-secret",
      `--static-auth-secret=${secret}`,
      "--realm=renkei.test",
      "--allow-loopback-peers",
      "--no-tls",
      "--no-dtls",
      "--no-cli",
      "--simple-log",
      "--log-file=stdout",
      `--pidfile=${join(dir, "turn.pid")}`,
      `--db=${join(dir, "turn.db")}`,
    ],
    { stdio: ["ignore", out, out] },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((ok) => child.once("exit", ok));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const readLog = () => readFileSync(logFile, "utf8");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const listening = await new Promise((ok) => {
      const socket = connect(port, "127.0.0.1", () => (socket.end(), ok(true)));
      socket.on("error", () => ok(false));
    });
    if (listening) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = readLog();
      await stop();
      throw new Error(`turnserver did not listen on ${port}:\n${text}`);
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return { url: `turn:127.0.0.1:${port}`, stop, log: readLog };
}
