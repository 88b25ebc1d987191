// What the `ternary serve` tests share: starting the server on a free port
// chosen here, running the CLI for reference answers, raw HTTP, checks.
// Environment (set by CTest, tests/server/CMakeLists.txt): TERNARY (the
// binary), MODEL (models/tiny-shakespeare), CHROMIUM (for page.cjs).
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");

const TERNARY = process.env.TERNARY;
const MODEL = process.env.MODEL;
if (!TERNARY || !MODEL) {
  console.error("set TERNARY and MODEL (CTest does)");
  process.exit(2);
}

let failures = 0;
let passes = 0;
function check(ok, what, detail) {
  if (ok) {
    ++passes;
  } else {
    ++failures;
    console.error("FAIL: " + what + (detail !== undefined ? "\n  " +
      (typeof detail === "string" ? detail : JSON.stringify(detail)) : ""));
  }
  return ok;
}
function equal(got, want, what) {
  return check(got === want, what,
               "got  " + JSON.stringify(got) + "\n  want " + JSON.stringify(want));
}
// Ends the test: "N passed, N failed" and the exit status.
function finish(name) {
  console.log(`${name}: ${passes} passed, ${failures} failed`);
  process.exitCode = failures === 0 ? 0 : 1;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A port nobody listens on now (the kernel's pick).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts `ternary serve` with `args` on a free port; resolves when /health
// answers. The returned object has port, url, proc, stderr(), stop(signal)
// (resolves to the exit code) and rss() (VmRSS in KiB from /proc).
async function startServer(args = []) {
  for (let attempt = 0; attempt < 5; ++attempt) {
    const port = await freePort();
    const proc = spawn(TERNARY, ["serve", "-m", MODEL, "--port", String(port),
                                 ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    proc.stderr.on("data", (d) => { err += d; });
    proc.stdout.on("data", () => {});
    const exited = new Promise((r) => proc.on("exit", (code, sig) =>
      r(code === null ? "signal " + sig : code)));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20000;
    let up = false, gone = false;
    exited.then(() => { gone = true; });
    while (!gone && Date.now() < deadline) {
      try {
        const r = await fetch(url + "/health");
        if (r.ok) { up = true; break; }
      } catch (e) { /* not yet */ }
      await sleep(50);
    }
    if (up) {
      return {
        port, url, proc, exited,
        stderr: () => err,
        rss: () => {
          const m = /VmRSS:\s+(\d+) kB/.exec(
            fs.readFileSync(`/proc/${proc.pid}/status`, "utf8"));
          return m ? Number(m[1]) : NaN;
        },
        stop: async (signal = "SIGTERM") => {
          proc.kill(signal);
          const timer = setTimeout(() => proc.kill("SIGKILL"), 15000);
          const code = await exited;
          clearTimeout(timer);
          return code;
        },
      };
    }
    proc.kill("SIGKILL");
    await exited;
    if (!/cannot listen/.test(err)) {
      throw new Error("ternary serve did not start: " + err);
    }
    // Someone took the port between the check and the bind: another one.
  }
  throw new Error("no free port for ternary serve");
}

// `ternary ARGS` with `input` on stdin: its stdout (throws on failure).
function cli(args, input) {
  const r = spawnSync(TERNARY, args, { input: input || "", encoding: "utf8",
                                       timeout: 60000 });
  if (r.status !== 0) {
    throw new Error(`ternary ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  }
  return r.stdout;
}

// The reference cases (prompts) of the tiny model.
function referencePrompts() {
  const ref = JSON.parse(fs.readFileSync(MODEL + "/reference.json", "utf8"));
  return ref.cases.map((c) => c.prompt);
}

// One raw HTTP exchange: writes `request` (a string or Buffer, or a
// function given the socket), resolves to { status, headers, body } of the
// first response, or { status: 0, error } when the connection closes
// without one. `timeout` ms at most.
function raw(port, request, timeout = 10000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let done = false;
    const end = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const parse = () => {
      const text = data.toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      if (head < 0) return null;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const headers = text.slice(0, head);
      const len = /\r\ncontent-length: *(\d+)/i.exec(headers);
      const body = data.subarray(Buffer.byteLength(text.slice(0, head + 4), "latin1"));
      if (len && body.length < Number(len[1])) return null;
      return { status: m ? Number(m[1]) : -1, headers, body: body.toString("utf8") };
    };
    const timer = setTimeout(() => end(parse() || { status: 0, error: "timeout" }), timeout);
    sock.on("data", (d) => {
      data = Buffer.concat([data, d]);
      const r = parse();
      if (r && /\r\ncontent-length:/i.test(r.headers)) end(r);
    });
    sock.on("error", (e) => end(parse() || { status: 0, error: String(e) }));
    sock.on("close", () => end(parse() || { status: 0, error: "closed" }));
    sock.on("connect", () => {
      if (typeof request === "function") {
        request(sock);
      } else {
        sock.write(request, () => {});
      }
    });
  });
}

// A POST with a JSON body (a string is sent as it is).
async function post(url, path, body, headers = {}) {
  const r = await fetch(url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}

// The text of an SSE response (chat deltas or completion texts), its
// events, and whether it ended with [DONE].
function parseSse(text) {
  const events = [];
  let done = false;
  for (const block of text.split("\n\n")) {
    for (const line of block.split("\n")) {
      if (!line.startsWith("data: ")) continue;
      const data = line.slice(6);
      if (data === "[DONE]") { done = true; continue; }
      events.push(JSON.parse(data));
    }
  }
  let content = "";
  for (const e of events) {
    const c = e.choices && e.choices[0];
    if (!c) continue;
    content += (c.delta && c.delta.content) || c.text || "";
  }
  return { events, content, done };
}

async function metric(url, name) {
  const text = await (await fetch(url + "/metrics")).text();
  const m = new RegExp("^ternary_" + name + " ([0-9.e+-]+)$", "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

module.exports = {
  check, equal, finish, sleep, startServer, cli, referencePrompts, raw, post,
  parseSse, metric, TERNARY, MODEL,
};
