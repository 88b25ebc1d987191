// ternary::BatchGenerator through its light header: every request's tokens
// and text equal Engine::Generate's (or Chat's) for it alone with the same
// options, whether it runs alone, with others, joins while others decode,
// or has its prompt prefilled in small chunks; cancellation (queued,
// running, by the callback), the queue bound, stop strings, max_tokens, the
// context limit, prefix reuse between requests, Run/Stop on a thread with
// Submits from several threads, and the errors of a bad request.
//
// The batch's logits equal a lone Forward's up to float summation order
// (Engine::ForwardBatch's contract); on the tiny model they are the same
// tokens, which is what these tests compare.
#include "ternary/runtime/batch_generator.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "expect_error.h"
#include "ternary/runtime/engine.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

const std::string kModel =
    std::string(TERNARY_MODELS_DIR) + "/tiny-shakespeare";

GenerateOptions Greedy(int64_t n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.sampling.temperature = 0.0f;
  return o;
}

std::unique_ptr<Engine> Load(size_t context = 0) {
  return Engine::Load(kModel, EngineOptions{.threads = 2, .context = context});
}

// What Engine::Generate gives for the request alone, from an empty cache.
GenerateResult Alone(Engine& e, const std::string& prompt,
                     const GenerateOptions& o) {
  e.Reset();
  return e.Generate(prompt, o);
}

// A request whose callbacks record into `out`.
struct Recorded {
  std::string streamed;
  size_t pieces = 0;
  std::optional<BatchResult> result;
  int done_calls = 0;
};

BatchRequest Request(const std::string& prompt, const GenerateOptions& o,
                     Recorded& out) {
  BatchRequest r;
  r.prompt = prompt;
  r.options = o;
  r.on_text = [&out](std::string_view t) {
    out.streamed += t;
    ++out.pieces;
    return true;
  };
  r.on_done = [&out](const BatchResult& res) {
    out.result = res;
    ++out.done_calls;
  };
  return r;
}

void RunAll(BatchGenerator& g) {
  for (int i = 0; i < 100000 && g.Step(); ++i) {
  }
}

void CheckSame(const Recorded& got, const GenerateResult& want) {
  REQUIRE(got.result.has_value());
  CHECK(got.done_calls == 1);
  CHECK(got.result->error.empty());
  CHECK(got.result->tokens == want.tokens);
  CHECK(got.result->text == want.text);
  CHECK(got.result->finish == want.finish);
  CHECK(got.result->prompt_tokens == want.prompt_tokens);
  CHECK(got.streamed == got.result->text);
}

const std::vector<std::string> kPrompts = {"ROMEO:\nBut soft, what light",
                                           "Prince Andrew looked at",
                                           "The war was", "KING HENRY:\n"};

TEST_CASE("BatchGenerator: four requests at once equal each alone") {
  auto ref = Load();
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 4});
  const int64_t lengths[] = {40, 7, 23, 1};
  std::vector<Recorded> got(4);
  std::vector<GenerateResult> want;
  for (size_t i = 0; i < 4; ++i) {
    want.push_back(Alone(*ref, kPrompts[i], Greedy(lengths[i])));
    REQUIRE(g.Submit(Request(kPrompts[i], Greedy(lengths[i]), got[i])));
  }
  CHECK(g.stats().queued == 4);
  CHECK(g.Step());               // all four prefill in one batch
  CHECK(g.stats().active == 3);  // the one-token request is done
  CHECK(got[3].result);
  CHECK(g.stats().queued == 0);
  RunAll(g);
  for (size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CheckSame(got[i], want[i]);
    CHECK(got[i].result->tokens.size() == size_t(lengths[i]));
    CHECK(got[i].result->cached_tokens == 0);
  }
  CHECK(got[0].pieces > 1);
  const BatchStats s = g.stats();
  CHECK(s.submitted == 4);
  CHECK(s.finished[size_t(FinishReason::kLength)] == 4);
  CHECK(s.generated_tokens == 40 + 7 + 23 + 1);
  CHECK(s.active == 0);
  CHECK(s.sequences == 4);
  // The longest request decoded 39 tokens after its first: one step each.
  CHECK(s.steps == 40);
  CHECK(s.batched_sequences == 4 + 3 * 6 + 2 * 16 + 17);
  CHECK(s.tokens_per_second > 0);
  CHECK(e->open_sequences() == 5);
}

TEST_CASE("BatchGenerator: sampling with a seed equals Engine::Generate") {
  auto ref = Load();
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 3});
  std::vector<Recorded> got(3);
  std::vector<GenerateResult> want;
  for (size_t i = 0; i < 3; ++i) {
    GenerateOptions o;
    o.max_tokens = 30;
    o.sampling.temperature = 0.9f;
    o.sampling.repeat_penalty = 1.1f;
    o.sampling.seed = 1000 + i;
    want.push_back(Alone(*ref, kPrompts[i], o));
    REQUIRE(g.Submit(Request(kPrompts[i], o, got[i])));
  }
  RunAll(g);
  for (size_t i = 0; i < 3; ++i) CheckSame(got[i], want[i]);
}

TEST_CASE("BatchGenerator: requests join while others decode") {
  auto ref = Load();
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 3});
  std::vector<Recorded> got(5);
  std::vector<GenerateResult> want;
  for (size_t i = 0; i < 5; ++i) {
    want.push_back(Alone(*ref, kPrompts[i % 4], Greedy(20 + int64_t(i))));
  }
  REQUIRE(g.Submit(Request(kPrompts[0], Greedy(20), got[0])));
  for (int i = 0; i < 5; ++i) g.Step();
  REQUIRE(g.Submit(Request(kPrompts[1], Greedy(21), got[1])));
  REQUIRE(g.Submit(Request(kPrompts[2], Greedy(22), got[2])));
  // Two more than there are free sequences: they wait, then take the
  // sequences the first ones leave.
  REQUIRE(g.Submit(Request(kPrompts[3], Greedy(23), got[3])));
  REQUIRE(g.Submit(Request(kPrompts[0], Greedy(24), got[4])));
  g.Step();
  CHECK(g.stats().active == 3);
  CHECK(g.stats().queued == 2);
  CHECK_FALSE(got[0].result);
  RunAll(g);
  for (size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    CheckSame(got[i], want[i]);
  }
  // A request whose prompt one of the free sequences holds goes there and
  // runs only its last token.
  for (size_t i : {3, 2, 0}) {
    Recorded again;
    REQUIRE(g.Submit(Request(kPrompts[i], Greedy(5), again)));
    RunAll(g);
    CheckSame(again, Alone(*ref, kPrompts[i], Greedy(5)));
    CHECK(again.result->cached_tokens == again.result->prompt_tokens - 1);
  }
}

TEST_CASE("BatchGenerator: a long prompt prefills in chunks") {
  auto ref = Load();
  auto e = Load();
  std::string prompt;
  for (int i = 0; i < 12; ++i) prompt += kPrompts[size_t(i) % 4] + " ";
  const GenerateResult want_long = Alone(*ref, prompt, Greedy(12));
  const GenerateResult want_short = Alone(*ref, kPrompts[2], Greedy(30));
  REQUIRE(want_long.prompt_tokens > 40);
  BatchGenerator g(*e, {.sequences = 2, .prefill_chunk = 8});
  Recorded a, b;
  REQUIRE(g.Submit(Request(kPrompts[2], Greedy(30), b)));
  g.Step();
  g.Step();
  const size_t before = e->position(1) + e->position(2);
  REQUIRE(g.Submit(Request(prompt, Greedy(12), a)));
  // While the long prompt prefills 8 tokens a step, the short request
  // keeps decoding one token a step.
  for (int i = 0; i < 3; ++i) g.Step();
  CHECK(e->position(1) + e->position(2) == before + 3 * (8 + 1));
  RunAll(g);
  CheckSame(a, want_long);
  CheckSame(b, want_short);
}

TEST_CASE("BatchGenerator: cancellation") {
  auto ref = Load();
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 2});
  std::vector<Recorded> got(4);
  std::vector<std::optional<BatchGenerator::Id>> ids;
  for (size_t i = 0; i < 4; ++i) {
    ids.push_back(g.Submit(Request(kPrompts[i], Greedy(30), got[i])));
    REQUIRE(ids.back());
  }
  for (int i = 0; i < 4; ++i) g.Step();
  // A running request and a queued one.
  CHECK(g.Cancel(*ids[0]));
  CHECK(g.Cancel(*ids[3]));
  CHECK_FALSE(g.Cancel(999));
  g.Step();
  REQUIRE(got[0].result);
  CHECK(got[0].result->finish == FinishReason::kCancelled);
  CHECK(got[0].result->tokens.size() == 4);
  CHECK(got[0].streamed == got[0].result->text);
  REQUIRE(got[3].result);
  CHECK(got[3].result->finish == FinishReason::kCancelled);
  CHECK(got[3].result->tokens.empty());
  CHECK_FALSE(g.Cancel(*ids[0]));  // gone
  // The freed sequence took request 2 in the same step.
  CHECK(g.stats().active == 2);
  RunAll(g);
  CheckSame(got[1], Alone(*ref, kPrompts[1], Greedy(30)));
  CheckSame(got[2], Alone(*ref, kPrompts[2], Greedy(30)));
  for (const Recorded& r : got) CHECK(r.done_calls == 1);
  CHECK(g.stats().finished[size_t(FinishReason::kCancelled)] == 2);

  // on_text returning false cancels, as in Engine::Generate.
  Recorded c;
  BatchRequest r = Request(kPrompts[0], Greedy(48), c);
  r.on_text = [&c](std::string_view t) {
    c.streamed += t;
    return false;
  };
  REQUIRE(g.Submit(std::move(r)));
  RunAll(g);
  REQUIRE(c.result);
  CHECK(c.result->finish == FinishReason::kCancelled);
  CHECK(c.result->tokens.size() < 48);
  CHECK(c.result->text == c.streamed);
  size_t calls = 0;
  ref->Reset();
  const GenerateResult w =
      ref->Generate(kPrompts[0], Greedy(48), [&](std::string_view) {
        ++calls;
        return false;
      });
  CHECK(c.result->tokens == w.tokens);
  CHECK(c.result->text == w.text);
}

TEST_CASE("BatchGenerator: the queue bound") {
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 1, .max_queued = 2});
  std::vector<Recorded> got(4);
  CHECK(g.Submit(Request(kPrompts[0], Greedy(3), got[0])));
  CHECK(g.Submit(Request(kPrompts[1], Greedy(3), got[1])));
  CHECK_FALSE(g.Submit(Request(kPrompts[2], Greedy(3), got[2])));
  g.Step();  // one goes into the sequence: room for one more
  CHECK(g.stats().queued == 1);
  CHECK(g.Submit(Request(kPrompts[2], Greedy(3), got[2])));
  CHECK_FALSE(g.Submit(Request(kPrompts[3], Greedy(3), got[3])));
  RunAll(g);
  CHECK(g.stats().rejected == 2);
  CHECK(g.stats().submitted == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(got[i].result->tokens.size() == 3);
  CHECK_FALSE(got[3].result);
}

TEST_CASE("BatchGenerator: stop strings, max_tokens and end of text") {
  auto ref = Load();
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 4});
  GenerateOptions stop = Greedy(48);
  stop.stop = {"sir"};
  GenerateOptions split = Greedy(48);
  split.stop = {"what is"};
  GenerateOptions never = Greedy(16);
  never.stop = {"zzz-not-there"};
  const std::vector<GenerateOptions> options = {stop, split, never, Greedy(0),
                                                Greedy(1)};
  std::vector<Recorded> got(options.size());
  for (size_t i = 0; i < options.size(); ++i) {
    REQUIRE(g.Submit(Request(kPrompts[0], options[i], got[i])));
  }
  RunAll(g);
  for (size_t i = 0; i < options.size(); ++i) {
    CAPTURE(i);
    CheckSame(got[i], Alone(*ref, kPrompts[0], options[i]));
  }
  CHECK(got[0].result->finish == FinishReason::kStopString);
  CHECK(got[0].result->text.find("sir") == std::string::npos);
  CHECK(got[1].result->finish == FinishReason::kStopString);
  CHECK(got[2].result->finish == FinishReason::kLength);
  CHECK(got[3].result->tokens.empty());
  CHECK(got[3].result->finish == FinishReason::kLength);
  CHECK(got[4].result->tokens.size() == 1);

  // ignore_eos never samples an end token (the tiny model's EOS is 4092).
  GenerateOptions o = Greedy(8);
  o.ignore_eos = true;
  Recorded r;
  REQUIRE(g.Submit(Request(kPrompts[1], o, r)));
  RunAll(g);
  CheckSame(r, Alone(*ref, kPrompts[1], o));
}

TEST_CASE("BatchGenerator: the context limit") {
  auto ref = Load(/*context=*/14);
  auto e = Load(/*context=*/14);
  BatchGenerator g(*e, {.sequences = 2});
  std::vector<Recorded> got(2);
  REQUIRE(g.Submit(Request(kPrompts[0], Greedy(-1), got[0])));
  REQUIRE(g.Submit(Request(kPrompts[2], Greedy(100), got[1])));
  RunAll(g);
  CheckSame(got[0], Alone(*ref, kPrompts[0], Greedy(-1)));
  CheckSame(got[1], Alone(*ref, kPrompts[2], Greedy(100)));
  CHECK(got[0].result->finish == FinishReason::kContextFull);
  CHECK(got[1].result->finish == FinishReason::kContextFull);
  CHECK(got[0].result->prompt_tokens + got[0].result->tokens.size() == 15);
  // A prompt longer than the context can never run.
  std::string long_prompt;
  for (int i = 0; i < 10; ++i) long_prompt += "ROMEO: ";
  Recorded x;
  test::ExpectError<UsageError>(
      [&] { g.Submit(Request(long_prompt, Greedy(1), x)); },
      {"more than the context of 14"});
}

TEST_CASE("BatchGenerator: token and chat prompts") {
  auto ref = Load();
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 2});
  const std::vector<ChatMessage> chat = {{"system", "Be brief."},
                                         {"user", "Who is Romeo?"}};
  Recorded a, b;
  BatchRequest ra = Request("", Greedy(12), a);
  ra.messages = chat;
  REQUIRE(g.Submit(std::move(ra)));
  BatchRequest rb = Request("", Greedy(12), b);
  rb.tokens = e->Tokenize(kPrompts[3], /*add_bos=*/true);
  REQUIRE(g.Submit(std::move(rb)));
  RunAll(g);
  ref->Reset();
  CheckSame(a, ref->Chat(chat, Greedy(12)));
  CheckSame(b, Alone(*ref, kPrompts[3], Greedy(12)));
}

TEST_CASE("BatchGenerator: Run on a thread, Submit from several") {
  auto ref = Load();
  auto e = Load();
  std::vector<GenerateResult> want;
  for (size_t i = 0; i < 8; ++i) {
    want.push_back(Alone(*ref, kPrompts[i % 4], Greedy(10 + int64_t(i))));
  }
  BatchGenerator g(*e, {.sequences = 3});
  std::thread worker([&] { g.Run(); });
  std::vector<Recorded> got(8);
  std::atomic<int> finished{0};
  std::vector<std::thread> clients;
  for (size_t t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (size_t i = t; i < 8; i += 4) {
        BatchRequest r =
            Request(kPrompts[i % 4], Greedy(10 + int64_t(i)), got[i]);
        auto done = std::move(r.on_done);
        r.on_done = [&, done](const BatchResult& res) {
          done(res);
          ++finished;
        };
        REQUIRE(g.Submit(std::move(r)));
      }
    });
  }
  for (std::thread& c : clients) c.join();
  for (int i = 0; i < 2000 && finished < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(finished == 8);
  // Stop cancels what is left and refuses new requests.
  Recorded late;
  REQUIRE(g.Submit(Request(kPrompts[0], Greedy(-1), late)));
  g.Stop();
  worker.join();
  CHECK(g.stopped());
  REQUIRE(late.result);
  CHECK(late.result->finish == FinishReason::kCancelled);
  Recorded refused;
  CHECK_FALSE(g.Submit(Request(kPrompts[0], Greedy(1), refused)));
  for (size_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    CheckSame(got[i], want[i]);
  }
}

TEST_CASE("BatchGenerator: requests left at destruction are cancelled") {
  auto e = Load();
  Recorded a;
  {
    BatchGenerator g(*e, {.sequences = 1});
    REQUIRE(g.Submit(Request(kPrompts[0], Greedy(5), a)));
    CHECK(e->open_sequences() == 2);
  }
  REQUIRE(a.result);
  CHECK(a.result->finish == FinishReason::kCancelled);
  CHECK(e->open_sequences() == 1);
}

TEST_CASE("BatchGenerator: bad requests are errors") {
  auto e = Load();
  BatchGenerator g(*e, {.sequences = 1});
  Recorded r;
  BatchRequest bad = Request("", Greedy(1), r);
  bad.tokens = {1, 2, int32_t(e->vocab())};
  test::ExpectError<UsageError>([&] { g.Submit(std::move(bad)); },
                                {"outside the vocabulary"});
  GenerateOptions o = Greedy(1);
  o.sampling.top_p = 0.0f;
  test::ExpectError<UsageError>([&] { g.Submit(Request("x", o, r)); },
                                {"top_p"});
  o = Greedy(1);
  o.add_bos = false;
  test::ExpectError<UsageError>([&] { g.Submit(Request("", o, r)); },
                                {"prompt is empty"});
  test::ExpectError<UsageError>(
      [&] { BatchGenerator zero(*e, {.sequences = 0}); }, {"sequences"});
  CHECK(g.stats().submitted == 0);
  CHECK_FALSE(r.result);
}

}  // namespace
}  // namespace ternary
