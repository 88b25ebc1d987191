// The chat page of `ternary serve` in a real browser: headless Chromium
// (Debian's, $CHROMIUM) driven by puppeteer-core loads /, sends a message,
// and sees the reply grow as tokens stream in; with temperature 0 the reply
// is `ternary chat --temp 0`'s. A second turn continues the conversation.
// SCREENSHOT=file.png saves what the page shows at the end.
"use strict";
const puppeteer = require("puppeteer-core");
const { check, equal, finish, startServer, cli, MODEL } = require("./common.cjs");

const N = 48;

async function main() {
  const want = cli(["chat", "-m", MODEL, "-n", String(N), "--temp", "0", "-t",
                    "1", "--log-disable"], "Hello there\n").replace(/\n$/, "");
  const server = await startServer(["-np", "2", "-t", "1"]);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--no-default-browser-check"],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    const response = await page.goto(server.url + "/", { waitUntil: "load" });
    equal(response.status(), 200, "GET / is 200");
    check(/text\/html/.test(response.headers()["content-type"]), "/ is HTML");
    await page.waitForFunction(
      () => document.getElementById("model").textContent === "tiny-shakespeare",
      { timeout: 10000 });
    // Greedy, N tokens.
    await page.$eval("#max_tokens", (e, n) => { e.value = String(n); }, N);
    await page.$eval("#temperature", (e) => { e.value = "0"; });
    await page.type("#input", "Hello there");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".msg.assistant[data-done='1']", { timeout: 20000 });
    const reply = await page.$eval(".msg.assistant .text", (e) => e.textContent);
    equal(reply, want, "the page's reply = ternary chat");
    // The page added each streamed piece (event) to the reply as it came.
    const pieces = await page.$eval(".msg.assistant", (e) => Number(e.dataset.pieces));
    check(pieces > 10, "the reply streamed in, piece by piece", pieces);
    const stats = await page.$eval(".msg.assistant .stats", (e) => e.textContent);
    check(stats.startsWith(N + " tokens"), "the page shows the usage", stats);

    // A second turn: the conversation goes on.
    await page.type("#input", "And then?");
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      () => document.querySelectorAll(".msg.assistant[data-done='1']").length === 2,
      { timeout: 20000 });
    const second = await page.$$eval(".msg.assistant .text",
                                     (es) => es[1].textContent);
    check(second.length > 0, "a second reply", second);
    check(!(await page.$(".msg.error")), "no error on the page");
    equal(errors.length, 0, "no JavaScript errors: " + errors.join("; "));
    if (process.env.SCREENSHOT) {
      await page.screenshot({ path: process.env.SCREENSHOT });
    }
  } finally {
    await browser.close();
    equal(await server.stop(), 0, "server exit 0");
  }
}

main().catch((e) => { check(false, "exception", e.stack); })
  .finally(() => finish("server page"));
