// `ternary serve` under malformed and hostile requests: each gets the right
// status (and an OpenAI-style error object where there is a body), the
// server answers /health after each, nothing crashes, and its memory stays
// flat: after a warm-up that fills both slots' KV caches to the context
// (they keep their memory, by design), the whole list runs twice, and
// VmRSS (/proc/PID/status) after the second round is within RSS_BOUND_KIB
// of the first. Abrupt disconnects
// mid-stream and mid-answer free their slots (the cancelled count grows,
// nothing is left active), 64 connections at once get 200 or 503, slow
// clients are cut off after --timeout without holding the others back.
// Finally SIGTERM during a stream: the stream ends with [DONE], exit 0.
"use strict";
const net = require("node:net");
const {
  check, equal, finish, sleep, startServer, raw, post, parseSse, metric,
} = require("./common.cjs");

const KEY = "sk-abuse-test";
const AUTH = { Authorization: "Bearer " + KEY };
const RSS_BOUND_KIB = 8 * 1024;  // growth allowed from round 1 to round 2
const CTX = 1536;

// One malformed request: body (string or object), expected status, and the
// error code when the answer is an OpenAI error object.
const bad = [
  ["malformed JSON", "/v1/chat/completions", "{bad", 400],
  ["empty body", "/v1/chat/completions", "", 400],
  ["truncated JSON", "/v1/completions", '{"prompt": "x", ', 400],
  ["a JSON array", "/v1/chat/completions", "[1, 2]", 400],
  ["a JSON string", "/v1/completions", '"ROMEO:"', 400],
  ["deep nesting", "/v1/completions", "[".repeat(20000) + "]".repeat(20000), 400],
  ["invalid UTF-8", "/v1/completions", Buffer.from([0x7b, 0x22, 0x70, 0x72,
    0x6f, 0x6d, 0x70, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400],
  ["no messages", "/v1/chat/completions", { max_tokens: 4 }, 400],
  ["messages not an array", "/v1/chat/completions", { messages: "hi" }, 400],
  ["messages empty", "/v1/chat/completions", { messages: [] }, 400],
  ["message not an object", "/v1/chat/completions", { messages: ["hi"] }, 400],
  ["role tool", "/v1/chat/completions",
   { messages: [{ role: "tool", content: "x" }] }, 400],
  ["role missing", "/v1/chat/completions", { messages: [{ content: "x" }] }, 400],
  ["content a number", "/v1/chat/completions",
   { messages: [{ role: "user", content: 42 }] }, 400],
  ["image content", "/v1/chat/completions",
   { messages: [{ role: "user", content: [{ type: "image_url",
                                             image_url: { url: "x" } }] }] }, 400],
  ["max_tokens a string", "/v1/completions", { prompt: "x", max_tokens: "5" }, 400],
  ["max_tokens negative", "/v1/completions", { prompt: "x", max_tokens: -1 }, 400],
  ["max_tokens 1.5", "/v1/completions", { prompt: "x", max_tokens: 1.5 }, 400],
  ["max_tokens 2^70", "/v1/completions",
   '{"prompt": "x", "max_tokens": 1180591620717411303424}', 400],
  ["temperature a string", "/v1/completions", { prompt: "x", temperature: "hot" }, 400],
  ["temperature negative", "/v1/completions", { prompt: "x", temperature: -1 }, 400],
  ["top_p 0", "/v1/completions", { prompt: "x", top_p: 0 }, 400],
  ["top_k -1", "/v1/completions", { prompt: "x", top_k: -1 }, 400],
  ["min_p 2", "/v1/completions", { prompt: "x", min_p: 2 }, 400],
  ["seed a string", "/v1/completions", { prompt: "x", seed: "42" }, 400],
  ["stop a number", "/v1/completions", { prompt: "x", stop: 7 }, 400],
  ["stop list with a number", "/v1/completions", { prompt: "x", stop: ["a", 1] }, 400],
  ["stop list of 100", "/v1/completions",
   { prompt: "x", stop: Array(100).fill("a") }, 400],
  ["stream a string", "/v1/completions", { prompt: "x", stream: "yes" }, 400],
  ["n = 2", "/v1/chat/completions",
   { messages: [{ role: "user", content: "x" }], n: 2 }, 400],
  ["n a string", "/v1/completions", { prompt: "x", n: "1" }, 400],
  ["logprobs", "/v1/completions", { prompt: "x", logprobs: 5 }, 400],
  ["unknown model", "/v1/completions", { model: "gpt-4o", prompt: "x" }, 404,
   "model_not_found"],
  ["model a number", "/v1/completions", { model: 7, prompt: "x" }, 400],
  ["no prompt", "/v1/completions", { max_tokens: 3 }, 400],
  ["prompt a number", "/v1/completions", { prompt: 12 }, 400],
  ["two prompts", "/v1/completions", { prompt: ["a", "b"] }, 400],
  ["prompt + max_tokens beyond the context", "/v1/completions",
   { prompt: "ROMEO:", max_tokens: 1534 }, 400, "context_length_exceeded"],
  ["a prompt longer than the context", "/v1/completions",
   { prompt: "ROMEO and JULIET ".repeat(1500) }, 400, "context_length_exceeded"],
  ["chat beyond the context", "/v1/chat/completions",
   { messages: [{ role: "user", content: "hi" }], max_tokens: 1536 }, 400,
   "context_length_exceeded"],
];

async function expectError(name, path, body, status, code, headers = AUTH) {
  const r = await post(SERVER.url, path, body, headers);
  equal(r.status, status, name + ": status");
  const e = r.json && r.json.error;
  check(e && typeof e.message === "string" && e.message.length > 0 &&
        typeof e.type === "string", name + ": an OpenAI error object", r.text);
  if (code) equal(e && e.code, code, name + ": code");
}

async function alive(what) {
  const r = await fetch(SERVER.url + "/health").catch((e) => ({ status: String(e) }));
  equal(r.status, 200, "alive after " + what);
}

// A streaming request whose connection is dropped after the first token.
function dropMidStream(body) {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const sock = net.connect(SERVER.port, "127.0.0.1", () => {
      sock.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\n` +
                 `Authorization: Bearer ${KEY}\r\nContent-Type: application/json\r\n` +
                 `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
    });
    let got = "";
    sock.on("data", (d) => {
      got += d;
      if (got.includes("data: {")) { sock.destroy(); resolve(true); }
      // Refused (503 when the queue is full): nothing to drop.
      if (/^HTTP\/1\.1 (?!200)/.test(got)) { sock.destroy(); resolve(false); }
    });
    sock.on("error", () => resolve(false));
    sock.on("close", () => resolve(false));
  });
}

let SERVER = null;

async function round(n) {
  for (const [name, path, body, status, code] of bad) {
    await expectError(name, path, body, status, code);
  }
  await alive("malformed bodies");

  // Authentication.
  await expectError("wrong key", "/v1/completions", { prompt: "x" }, 401,
                    "invalid_api_key", { Authorization: "Bearer sk-wrong" });
  await expectError("missing key", "/v1/completions", { prompt: "x" }, 401,
                    "invalid_api_key", {});
  await expectError("key without Bearer", "/v1/completions", { prompt: "x" },
                    401, "invalid_api_key", { Authorization: KEY });
  const models = await fetch(SERVER.url + "/v1/models");
  equal(models.status, 401, "/v1/models without the key");

  // Wrong method and path.
  const get = await fetch(SERVER.url + "/v1/chat/completions", { headers: AUTH });
  equal(get.status, 405, "GET on a POST endpoint");
  const nf = await fetch(SERVER.url + "/no/such/path");
  equal(nf.status, 404, "unknown path");
  check((await nf.json()).error.code === "not_found", "404 error object");

  // Bodies over --max-body (64 KiB here): declared, and chunked.
  const big = await raw(SERVER.port, (sock) => {
    sock.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: " +
               `Bearer ${KEY}\r\nContent-Type: application/json\r\n` +
               "Content-Length: 10485760\r\n\r\n{\"prompt\": \"");
    sock.write("A".repeat(100000), () => {});
  });
  equal(big.status, 413, "10 MB declared body");
  const chunked = await raw(SERVER.port, (sock) => {
    sock.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: " +
               `Bearer ${KEY}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const piece = "B".repeat(16384);
    for (let i = 0; i < 8; ++i) {
      sock.write(piece.length.toString(16) + "\r\n" + piece + "\r\n", () => {});
    }
  });
  // (httplib's chunked reader answers 400 where it stops reading)
  check(chunked.status === 413 || chunked.status === 400,
        "chunked body over the limit", chunked);
  const huge = await raw(SERVER.port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " +
                         "h".repeat(100000) + "\r\n\r\n");
  check(huge.status >= 400 && huge.status < 500 || huge.status === 0,
        "a 100 KB header is refused", huge);
  const garbage = await raw(SERVER.port, "HELLO THERE\r\n\r\n");
  check(garbage.status === 400 || garbage.status === 0, "a garbage request line",
        garbage);
  const binary = await raw(SERVER.port, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]));
  check(binary.status === 400 || binary.status === 0, "binary junk", binary);
  await alive("huge and garbage requests");

  // Slow clients: 8 that send half a request and stall past --timeout (3 s),
  // and one that sends its body's first byte only, are cut off; another
  // request is answered meanwhile.
  const slow = [];
  for (let i = 0; i < 8; ++i) {
    slow.push(raw(SERVER.port, (sock) => {
      sock.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n");
    }, 10000));
  }
  slow.push(raw(SERVER.port, (sock) => {
    sock.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: " +
               `Bearer ${KEY}\r\nContent-Length: 50\r\n\r\n{`);
  }, 10000));
  let firstCut = Infinity;
  for (const p of slow) p.then(() => { firstCut = Math.min(firstCut, Date.now()); });
  const quick = await post(SERVER.url, "/v1/completions",
                           { prompt: "ROMEO:", max_tokens: 4 }, AUTH);
  const quickAt = Date.now();
  equal(quick.status, 200, "answered while slow clients stall");
  check(quickAt < firstCut, "answered before the stalled clients time out",
        { quickAt, firstCut });
  const cut = await Promise.all(slow);
  check(cut.every((r) => r.status === 0 || r.status === 408 || r.status === 400),
        "slow clients cut off", cut.map((r) => r.status || r.error));
  await alive("slow clients");

  // Abrupt disconnects: mid-stream, and during a long non-streaming answer.
  const cancelledBefore = await metric(SERVER.url,
    'requests_finished_total\\{reason="cancelled"\\}');
  for (let i = 0; i < 3; ++i) {
    check(await dropMidStream({ prompt: "ROMEO:", max_tokens: 1500, stream: true,
                                ignore_eos: true }), "a stream started");
  }
  // A long non-streaming answer whose client leaves once it runs (the
  // server notices once the answer has run 200 ms; 1500 tokens of the tiny
  // model take about 0.6 s on one Zen 5 thread).
  await new Promise((resolve) => {
    const p = JSON.stringify({ prompt: "KING HENRY:", max_tokens: 1500,
                               ignore_eos: true });
    const sock = net.connect(SERVER.port, "127.0.0.1", () => {
      sock.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
                 `Content-Type: application/json\r\nContent-Length: ${p.length}\r\n\r\n${p}`,
                 async () => {
                   for (let i = 0; i < 100; ++i) {
                     if (await metric(SERVER.url, "requests_active") > 0) break;
                     await sleep(20);
                   }
                   sock.destroy();
                   resolve();
                 });
    });
    sock.on("error", () => {});
  });
  let active = -1;
  for (let i = 0; i < 100; ++i) {
    active = await metric(SERVER.url, "requests_active");
    const cancelled = await metric(SERVER.url,
      'requests_finished_total\\{reason="cancelled"\\}');
    if (active === 0 && cancelled - cancelledBefore >= 4) break;
    await sleep(100);
  }
  equal(active, 0, "disconnected clients' slots are free");
  const cancelled = await metric(SERVER.url,
    'requests_finished_total\\{reason="cancelled"\\}');
  check(cancelled - cancelledBefore >= 4, "the disconnected generations were cancelled",
        { cancelled: cancelled - cancelledBefore,
          metrics: (await (await fetch(SERVER.url + "/metrics")).text())
            .split("\n").filter((l) => /^ternary_(requests|client)/.test(l)) });
  await alive("disconnects");

  // 64 connections at once (2 slots, a queue of 4): 200 or 503, nothing else.
  const many = await Promise.all(Array.from({ length: 64 }, (_, i) =>
    post(SERVER.url, "/v1/completions",
         { prompt: "The war was", max_tokens: 32 + (i % 4), temperature: 0 },
         AUTH).catch((e) => ({ status: String(e) }))));
  const ok = many.filter((r) => r.status === 200).length;
  const busy = many.filter((r) => r.status === 503).length;
  equal(ok + busy, 64, "64 at once: every answer 200 or 503");
  check(ok >= 6, "64 at once: the slots and the queue were used", ok);
  check(busy > 0, "64 at once: the queue bound gave 503s", busy);
  const texts = new Set(many.filter((r) => r.status === 200 && r.json.usage.completion_tokens === 32)
                            .map((r) => r.json.choices[0].text));
  check(texts.size <= 1, "64 at once: same prompt, same greedy text", [...texts]);
  const b503 = many.find((r) => r.status === 503);
  check(b503 && b503.json && b503.json.error.code === "server_overloaded",
        "503 has an error object", b503 && b503.text);
  // 64 streams at once, each dropped after its first token.
  await Promise.all(Array.from({ length: 64 }, () =>
    dropMidStream({ prompt: "ROMEO:", max_tokens: 200, stream: true })));
  await alive("64 concurrent connections");
  for (let i = 0; i < 100 && (await metric(SERVER.url, "requests_active")) > 0; ++i) {
    await sleep(50);
  }
  equal(await metric(SERVER.url, "requests_active"), 0, `round ${n}: idle at the end`);
  equal(await metric(SERVER.url, "queue_depth"), 0, `round ${n}: queue empty`);
}

// Both slots' KV caches filled to the context: two long prompts at once,
// generating until the context is full.
async function warmUp() {
  const probe = await post(SERVER.url, "/v1/completions",
                           { prompt: "ROMEO and JULIET ".repeat(100), max_tokens: 1 },
                           AUTH);
  const perRepeat = (probe.json.usage.prompt_tokens - 1) / 100;
  const prompt = "ROMEO and JULIET ".repeat(Math.floor((CTX - 64) / perRepeat));
  const r = await Promise.all([0, 1].map(() => post(SERVER.url, "/v1/completions",
    { prompt, ignore_eos: true }, AUTH)));
  for (const x of r) {
    equal(x.status, 200, "warm-up");
    equal(x.json.usage.total_tokens, CTX + 1, "warm-up ran to the context");
  }
}

async function main() {
  SERVER = await startServer(["--api-key", KEY, "-np", "2", "--max-queue", "4",
                              "--max-body", "65536", "--timeout", "3", "-c",
                              String(CTX), "-t", "1", "--log-disable"]);
  try {
    await warmUp();
    await round(1);
    const rss1 = SERVER.rss();
    await round(2);
    const rss2 = SERVER.rss();
    console.log(`VmRSS after round 1: ${rss1} KiB, after round 2: ${rss2} KiB`);
    check(rss2 - rss1 <= RSS_BOUND_KIB,
          `RSS flat within ${RSS_BOUND_KIB} KiB over round 2`, { rss1, rss2 });
    // A valid request still gets its normal answer.
    const r = await post(SERVER.url, "/v1/chat/completions",
                         { messages: [{ role: "user", content: "Hello there" }],
                           max_tokens: 8, temperature: 0 }, AUTH);
    equal(r.status, 200, "a normal request after all that");
    equal(r.json.usage.completion_tokens, 8, "its usage");
    const m = await (await fetch(SERVER.url + "/metrics")).text();
    check(/ternary_http_responses_total\{code="400"\} \d+/.test(m),
          "/metrics counts the 400s");
    check(/ternary_tokens_per_second \d/.test(m), "/metrics has tokens/s");
  } finally {
    // SIGTERM during a stream: the stream still ends with [DONE]; exit 0.
    const streaming = fetch(SERVER.url + "/v1/completions", {
      method: "POST", headers: { ...AUTH, "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "ROMEO:", max_tokens: 1500, stream: true,
                             ignore_eos: true }) })
      .then((res) => res.text()).catch((e) => "error: " + e);
    await sleep(300);
    const code = await SERVER.stop("SIGTERM");
    equal(code, 0, "SIGTERM: exit 0");
    const text = await streaming;
    const sse = parseSse(text.startsWith("error") ? "" : text);
    check(sse.done, "the stream in flight ended with [DONE]", text.slice(-300));
    check(sse.events.some((e) => e.error && e.error.code === "shutting_down"),
          "it was told the server is shutting down", text.slice(-300));
  }
}

main().catch((e) => { check(false, "exception", e.stack); })
  .finally(() => finish("server abuse"));
