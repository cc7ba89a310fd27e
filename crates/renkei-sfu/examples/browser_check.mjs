// Three Chromium pages in a group call through the relay (examples/browser_check.rs):
// each must decode the other two's video and receive their audio; then a small tile gets
// a small layer, a hidden one stops, a closed page's tracks stop.
// Usage: cargo run -p renkei-sfu --example browser_check &  node browser_check.mjs
// Needs playwright-core (web/node_modules) and Debian's chromium.
import { createRequire } from 'node:module';
const require = createRequire(process.env.PLAYWRIGHT_FROM || new URL('../../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const base = process.env.PAGE || 'http://127.0.0.1:18480/';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--no-sandbox'],
});
const pages = {};
for (const conn of ['a', 'b', 'c']) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && console.log(conn, 'console:', m.text()));
  await page.goto(`${base}?conn=${conn}`);
  await page.waitForFunction(() => window.ready === true);
  pages[conn] = page;
}
const stats = (c) => pages[c].evaluate(() => window.stats());
const remote = (c) => pages[c].evaluate(() => window.remote);
let failed = false;
const check = (ok, what) => { console.log(ok ? 'ok  ' : 'FAIL', what); if (!ok) failed = true; };

await sleep(8000);
for (const c of Object.keys(pages)) {
  const s1 = await stats(c); await sleep(2000); const s2 = await stats(c);
  const video = s2.filter((s) => s.kind === 'video');
  const audio = s2.filter((s) => s.kind === 'audio');
  const rising = video.filter((v) => v.frames > (s1.find((o) => o.mid === v.mid)?.frames ?? 0));
  console.log(c, 'remote', JSON.stringify(await remote(c)), 'stats', JSON.stringify(s2));
  check(video.length === 2 && rising.length === 2, `${c} decodes two videos, frames rising`);
  check(audio.length === 2 && audio.every((a) => a.packets > 0), `${c} receives two audios`);
  check((await pages[c].evaluate(() => window.errors)).length === 0, `${c} got no error signal`);
}

// b shows a's video small: the relay forwards a small layer.
const aMid = (await remote('b')).a.find((t) => t.kind === 'video').mid;
const width = async () => (await stats('b')).find((s) => s.kind === 'video' && s.mid === aMid)?.width ?? 0;
await pages.b.evaluate((mid) => window.want([{conn: 'a', mid, width: 320, height: 180, visible: true}]), aMid);
await sleep(4000);
const small = await width();
await pages.b.evaluate((mid) => window.want([{conn: 'a', mid, width: 1280, height: 720, visible: true}]), aMid);
await sleep(4000);
const large = await width();
console.log('a at b: small tile', small, 'px wide, large tile', large, 'px wide');
check(small > 0 && large > small, 'a larger tile gets a larger layer');

// b hides a's video: its frames stop; a's audio goes on.
await pages.b.evaluate((mid) => window.want([{conn: 'a', mid, width: 320, height: 180, visible: false}]), aMid);
await sleep(1500);
const h1 = await stats('b'); await sleep(2000); const h2 = await stats('b');
const fr = (s) => s.find((x) => x.kind === 'video' && x.mid === aMid).frames;
check(fr(h2) === fr(h1), `hidden video stops (${fr(h1)} → ${fr(h2)})`);

// c closes: a and b go on with each other.
await pages.c.context().close();
await sleep(3000);
const s1 = await stats('a'); await sleep(2000); const s2 = await stats('a');
const bVideo = (await remote('a')).b.find((t) => t.kind === 'video').mid;
const f = (s) => s.find((x) => x.kind === 'video' && x.mid === bVideo)?.frames ?? 0;
check(f(s2) > f(s1), 'after c closed, a still decodes b');

await browser.close();
process.exit(failed ? 1 : 0);
