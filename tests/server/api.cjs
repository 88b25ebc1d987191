// `ternary serve` through the official `openai` client: chat and
// completions, streaming and not; greedy answers (temperature 0) equal the
// CLI's (`ternary generate --temp 0 --no-display-prompt`, `ternary chat
// --temp 0`), one request at a time and four at once; seeded sampling
// equals the CLI's with the same seed; stop strings; usage; /v1/models;
// errors as the client's exception classes; SIGINT ends the server (0).
//
// Batching and float noise: Engine::ForwardBatch's contract is the lone
// Forward's logits up to float summation order. On the tiny model the
// tokens are the same, so these checks compare the text exactly, also with
// four requests decoding in one batch (the metrics show batches of more
// than one sequence).
"use strict";
const OpenAI = require("openai");
const {
  check, equal, finish, startServer, cli, referencePrompts, metric, MODEL,
} = require("./common.cjs");

const N = 24;  // tokens per answer

async function main() {
  const prompts = referencePrompts();
  // The CLI's answers first (each its own process, one thread).
  const generated = prompts.map((p) =>
    cli(["generate", "-m", MODEL, "-p", p, "-n", String(N), "--temp", "0",
         "--no-display-prompt", "-t", "1", "--log-disable"]).replace(/\n$/, ""));
  const chatted = cli(["chat", "-m", MODEL, "-n", String(N), "--temp", "0",
                       "-t", "1", "--log-disable"], "Hello there\n")
    .replace(/\n$/, "");
  const stopped = cli(["generate", "-m", MODEL, "-p", prompts[0], "-n", "48",
                       "--temp", "0", "--no-display-prompt", "-t", "1", "-r",
                       "sir", "--log-disable"]).replace(/\n$/, "");
  const seeded = cli(["generate", "-m", MODEL, "-p", prompts[1], "-n", "16",
                      "--temp", "0.9", "--seed", "42", "--no-display-prompt",
                      "-t", "1", "--log-disable"]).replace(/\n$/, "");

  const server = await startServer(["-np", "4", "-t", "1"]);
  const client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "none",
                              maxRetries: 0, timeout: 30000 });
  try {
    const models = await client.models.list();
    equal(models.data[0].id, "tiny-shakespeare", "/v1/models id");

    // Completions, one at a time: non-streaming, then streaming.
    for (let i = 0; i < prompts.length; ++i) {
      const r = await client.completions.create({
        model: "tiny-shakespeare", prompt: prompts[i], max_tokens: N,
        temperature: 0 });
      equal(r.choices[0].text, generated[i], `completion ${i} = generate`);
      equal(r.choices[0].finish_reason, "length", `completion ${i} finish`);
      equal(r.usage.completion_tokens, N, `completion ${i} usage`);
      equal(r.usage.total_tokens, r.usage.prompt_tokens + N,
            `completion ${i} total_tokens`);
      equal(r.object, "text_completion", "completion object");
      const stream = await client.completions.create({
        prompt: prompts[i], max_tokens: N, temperature: 0, stream: true });
      let text = "", chunks = 0, last = null;
      for await (const c of stream) {
        text += c.choices[0].text;
        ++chunks;
        if (c.choices[0].finish_reason) last = c.choices[0].finish_reason;
      }
      equal(text, generated[i], `streamed completion ${i} = generate`);
      check(chunks > 2, `streamed completion ${i} came in pieces`, chunks);
      equal(last, "length", `streamed completion ${i} finish`);
    }

    // Chat: non-streaming and streaming equal `ternary chat`.
    const messages = [{ role: "user", content: "Hello there" }];
    const c = await client.chat.completions.create({
      model: "tiny-shakespeare", messages, max_tokens: N, temperature: 0 });
    equal(c.choices[0].message.content, chatted, "chat = ternary chat");
    equal(c.choices[0].message.role, "assistant", "chat role");
    equal(c.object, "chat.completion", "chat object");
    equal(c.usage.completion_tokens, N, "chat usage");
    const cs = await client.chat.completions.create({
      messages, max_tokens: N, temperature: 0, stream: true,
      stream_options: { include_usage: true } });
    let text = "", usage = null, role = null;
    for await (const chunk of cs) {
      if (chunk.usage) usage = chunk.usage;
      const d = chunk.choices[0] && chunk.choices[0].delta;
      if (d && d.role) role = d.role;
      if (d && d.content) text += d.content;
    }
    equal(text, chatted, "streamed chat = ternary chat");
    equal(role, "assistant", "streamed chat role");
    check(usage && usage.completion_tokens === N, "streamed chat usage", usage);

    // Four at once, mixed: each equals its lone CLI answer.
    const stepsBefore = await metric(server.url, "batch_steps_total");
    const seqsBefore = await metric(server.url, "batch_sequences_total");
    const together = await Promise.all(prompts.map(async (p, i) => {
      if (i % 2 === 0) {
        const r = await client.completions.create({
          prompt: p, max_tokens: N, temperature: 0 });
        return r.choices[0].text;
      }
      const s = await client.completions.create({
        prompt: p, max_tokens: N, temperature: 0, stream: true });
      let t = "";
      for await (const x of s) t += x.choices[0].text;
      return t;
    }));
    together.forEach((t, i) => equal(t, generated[i], `4 at once: ${i}`));
    const steps = (await metric(server.url, "batch_steps_total")) - stepsBefore;
    const seqs = (await metric(server.url, "batch_sequences_total")) - seqsBefore;
    check(seqs / steps > 1.5, "4 at once ran in shared batches",
          { steps, seqs });
    // And four chats at once.
    const chats = await Promise.all([0, 1, 2, 3].map(() =>
      client.chat.completions.create({ messages, max_tokens: N,
                                       temperature: 0 })));
    chats.forEach((r, i) =>
      equal(r.choices[0].message.content, chatted, `4 chats at once: ${i}`));

    // A stop string, and seeded sampling (the CLI's sampling defaults).
    const s = await client.completions.create({
      prompt: prompts[0], max_tokens: 48, temperature: 0, stop: ["sir"] });
    equal(s.choices[0].text, stopped, "stop string = generate -r");
    equal(s.choices[0].finish_reason, "stop", "stop string finish");
    const seededAnswer = await client.completions.create({
      prompt: prompts[1], max_tokens: 16, temperature: 0.9, seed: 42 });
    equal(seededAnswer.choices[0].text, seeded, "seed 42 = generate --seed 42");

    // Errors are the client's exception classes.
    try {
      await client.chat.completions.create({ messages, n: 2 });
      check(false, "n=2 refused");
    } catch (e) {
      check(e instanceof OpenAI.BadRequestError, "n=2: BadRequestError",
            String(e));
    }
    try {
      await client.completions.create({ model: "gpt-4", prompt: "x" });
      check(false, "unknown model refused");
    } catch (e) {
      check(e instanceof OpenAI.NotFoundError, "unknown model: NotFoundError",
            String(e));
    }
  } finally {
    const code = await server.stop("SIGINT");
    equal(code, 0, "SIGINT: exit 0");
  }
  // With --api-key: the client's key is checked.
  const keyed = await startServer(["--api-key", "sk-right", "-t", "1"]);
  try {
    const good = new OpenAI({ baseURL: keyed.url + "/v1", apiKey: "sk-right",
                              maxRetries: 0 });
    const r = await good.completions.create({ prompt: prompts[2],
                                              max_tokens: 4, temperature: 0 });
    check(r.choices[0].text.length > 0, "right key answers");
    const bad = new OpenAI({ baseURL: keyed.url + "/v1", apiKey: "sk-wrong",
                             maxRetries: 0 });
    try {
      await bad.completions.create({ prompt: "x", max_tokens: 1 });
      check(false, "wrong key refused");
    } catch (e) {
      check(e instanceof OpenAI.AuthenticationError,
            "wrong key: AuthenticationError", String(e));
    }
  } finally {
    equal(await keyed.stop(), 0, "SIGTERM: exit 0");
  }
}

main().catch((e) => { check(false, "exception", e.stack); })
  .finally(() => finish("server api"));
