// Browser test of the supervisor console: node console.e2e.mjs <base_url> <config.json>
// config: {supervisor, agency, password, word, expired_url, artifacts}. Prints one JSON object; exit 0 when all pass.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const base = process.argv[2];
const cfg = JSON.parse(process.argv[3]);
const checks = {};
const notes = {};
function check(name, ok, detail) { checks[name] = !!ok; if (detail !== undefined) notes[name] = detail; }

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"],
});
mkdirSync(cfg.artifacts, { recursive: true });

async function login(context, name) {
  const page = await context.newPage();
  await page.goto(base + "/search");
  await page.waitForURL(/\/login/);
  await page.fill("#name", name);
  await page.fill("#password", cfg.password);
  await Promise.all([page.waitForURL(/\/search/), page.click("#login-submit")]);
  return page;
}

const currentIndex = (page) => page.evaluate(() => {
  const words = [...document.querySelectorAll("section.leg[data-leg='110'] .word")];
  return words.findIndex((w) => w.classList.contains("current"));
});

try {
  // --- supervisor: search, open, play, highlight, seek, audit ------------------------------------
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: "zh-CN" });
  const page = await login(ctx, cfg.supervisor);
  check("login", page.url().endsWith("/search"));
  await page.fill("#f-q", cfg.word);
  await page.click("#search-submit");
  await page.waitForSelector("tr.result");
  const rows = await page.$$eval("tr.result", (trs) => trs.length);
  check("search_by_transcript_word", rows >= 1, rows);
  await page.screenshot({ path: cfg.artifacts + "/search.png", fullPage: true });

  await Promise.all([page.waitForURL(/\/call\//), page.click("a.open-call")]);
  await page.waitForSelector(".recording audio");
  await page.waitForSelector(".word");
  const legs = await page.$$eval("section.leg", (s) => s.map((x) => x.dataset.leg));
  check("call_page_has_every_leg", legs.includes("110") && legs.includes("12345"), legs);
  const players = await page.$$eval("section.leg audio", (a) => a.length);
  check("player_per_leg", players >= 2, players);
  // preload="none": nothing is fetched (or audited) until someone presses play.
  await page.waitForTimeout(300);
  const fetchedBeforePlay = await page.$$eval(".recording audio", (as) => as.map((a) => a.readyState));
  check("no_fetch_before_play", fetchedBeforePlay.every((s) => s === 0), fetchedBeforePlay);
  await page.$eval(".recording audio", (a) => a.play());
  await page.waitForFunction(() => document.querySelector(".recording audio").readyState >= 1, null, { timeout: 10000 });
  const duration = await page.$eval(".recording audio", (a) => a.duration);
  check("audio_loaded", duration > 5, duration);
  await page.waitForFunction(() => document.querySelector(".recording audio").currentTime > 0.6, null, { timeout: 10000 });
  const first = await currentIndex(page);
  await page.waitForFunction(() => document.querySelector(".recording audio").currentTime > 2.6, null, { timeout: 10000 });
  const second = await currentIndex(page);
  check("playing", true);
  check("highlight_moves", first >= 0 && second > first, { first, second });
  await page.$eval(".recording audio", (a) => a.pause());

  // Click a word to seek.
  const words = await page.$$("section.leg[data-leg='110'] .word");
  const target = words[words.length - 2];
  const targetStart = Number(await target.getAttribute("data-start"));
  await target.click();
  await page.waitForFunction((s) => Math.abs(document.querySelector(".recording audio").currentTime - s) < 0.6,
    targetStart, { timeout: 5000 }).catch(() => {});
  const afterSeek = await page.$eval(".recording audio", (a) => a.currentTime);
  const targetCurrent = await target.evaluate((el) => el.classList.contains("current"));
  const seekable = await page.$eval(".recording audio", (a) => [a.seekable.length, a.seekable.length && a.seekable.end(0), a.paused, a.error && a.error.code]);
  check("click_word_seeks", Math.abs(afterSeek - targetStart) < 0.6 && targetCurrent, { targetStart, afterSeek, seekable });
  await page.$eval(".recording audio", (a) => a.pause());

  // Speed and ±5 s.
  await page.selectOption(".recording select.speed", "1.5");
  check("speed_control", (await page.$eval(".recording audio", (a) => a.playbackRate)) === 1.5);
  await page.$eval(".recording audio", (a) => { a.currentTime = 6; });
  await page.waitForFunction(() => Math.abs(document.querySelector(".recording audio").currentTime - 6) < 0.2);
  await page.click(".recording button.back5");
  await page.waitForFunction(() => document.querySelector(".recording audio").currentTime < 1.5, null, { timeout: 5000 });
  await page.click(".recording button.fwd5");
  await page.waitForFunction(() => document.querySelector(".recording audio").currentTime > 4, null, { timeout: 5000 });
  check("skip_5s", true);
  const triageTerms = await page.$$eval("#triage mark.term", (m) => m.map((x) => x.textContent));
  check("triage_terms_shown", triageTerms.length > 0, triageTerms);
  const badges = await page.$$eval(".ticket .badge", (b) => b.map((x) => x.className));
  check("deadline_badges", badges.some((c) => c.includes("met")) && badges.some((c) => c.includes("missed")), badges);
  await page.$eval(".recording audio", (a) => { a.currentTime = 1.2; });
  await page.waitForTimeout(300);
  await page.screenshot({ path: cfg.artifacts + "/call.png", fullPage: true });
  const recordingId = await page.$eval(".recording", (r) => r.dataset.recording);

  // The expired signed URL (signed by the server's key, exp in the past) is refused.
  const expired = await page.evaluate(async (u) => (await fetch(u)).status, cfg.expired_url);
  check("expired_url_refused", expired === 403, expired);
  const noSig = await page.evaluate(async (id) => (await fetch("/media/" + id)).status, recordingId);
  check("unsigned_url_refused", noSig === 403, noSig);
  const ownUrl = await page.$eval(".recording audio", (a) => a.src);

  // The playback is in the audit log.
  await page.goto(base + "/audit?action=playback");
  await page.waitForSelector("tr.audit-row");
  const audit = await page.$$eval("tr.audit-row", (rows) => rows.map((r) => ({
    user: r.children[1].textContent, action: r.querySelector(".action").textContent, target: r.querySelector(".target").textContent })));
  await page.screenshot({ path: cfg.artifacts + "/audit.png", fullPage: true });
  check("playback_audited", audit.some((a) => a.user === cfg.supervisor && a.action === "playback" && a.target === recordingId), audit);
  check("unplayed_leg_not_audited", !audit.some((a) => a.target === "rec-12345"), audit);

  await page.goto(base + "/dashboard");
  await page.waitForSelector("svg.chart rect.bar");
  await page.screenshot({ path: cfg.artifacts + "/dashboard.png", fullPage: true });
  check("dashboard_chart", (await page.$$eval("svg.chart rect.bar", (b) => b.length)) >= 3);

  await page.goto(base + "/search?lang=en");
  await page.waitForSelector("#search-form");
  check("english_available", (await page.textContent("#search-submit")) === "Search");

  // --- agency user: no recording --------------------------------------------------------------------
  const actx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const apage = await login(actx, cfg.agency);
  await apage.goto(base + "/call/" + cfg.incident);
  await apage.waitForSelector(".recording");
  const agencyAudio = await apage.$$eval("audio", (a) => a.length);
  const withheld = await apage.$$eval(".withheld", (w) => w.length);
  const agencyWords = await apage.$$eval(".word", (w) => w.length);
  check("agency_no_player", agencyAudio === 0 && withheld >= 1 && agencyWords === 0, { agencyAudio, withheld, agencyWords });
  const stolen = await apage.evaluate(async (u) => (await fetch(u)).status, ownUrl);
  check("agency_cannot_open_recording", stolen === 403, stolen);
  await apage.screenshot({ path: cfg.artifacts + "/call-agency.png", fullPage: true });
} catch (e) {
  check("no_exception", false, String(e && e.stack || e));
} finally {
  await browser.close();
}
const ok = Object.values(checks).every(Boolean);
console.log(JSON.stringify({ ok, checks, notes }));
process.exit(ok ? 0 : 1);
