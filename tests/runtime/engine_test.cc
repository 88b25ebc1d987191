// ternary::Engine through its light header (the definitions come from the
// ternary::runtime library): greedy text equal to transformers' continuation
// (models/tiny-shakespeare/reference.json), streaming, stop strings,
// cancellation, the context limit, KV-cache reuse between calls, chat
// rendering and trimming, and the errors of a misuse.
#include "ternary/runtime/engine.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "expect_error.h"
#include "ternary/model/family.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

const std::string kModel =
    std::string(TERNARY_MODELS_DIR) + "/tiny-shakespeare";

struct Reference {
  std::string prompt;
  std::vector<int32_t> ids;  // the prompt's ids, BOS first
  std::vector<int32_t> greedy_ids;
  std::string greedy_text;
};

const Reference& Case0() {
  static const Reference r = [] {
    std::ifstream in(kModel + "/reference.json");
    const nlohmann::json j = nlohmann::json::parse(in);
    const nlohmann::json& c = j.at("cases").at(0);
    return Reference{c.at("prompt").get<std::string>(),
                     c.at("ids").get<std::vector<int32_t>>(),
                     c.at("greedy_ids").get<std::vector<int32_t>>(),
                     c.at("greedy_text").get<std::string>()};
  }();
  return r;
}

GenerateOptions Greedy(int64_t n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.sampling.temperature = 0.0f;
  return o;
}

Engine& Shared() {
  static std::unique_ptr<Engine> engine =
      Engine::Load(kModel, EngineOptions{.threads = 2});
  return *engine;
}

TEST_CASE("Engine: defaults") {
  const Engine& e = Shared();
  CHECK(e.packing() == "i2s");
  CHECK(e.act() == "a8");
  CHECK(e.threads() == 2);
  CHECK(e.context() == size_t(e.config().max_position_embeddings));
  CHECK(e.has_tokenizer());
  CHECK(e.chat_template() == ChatTemplate::kHuggingFace);
  // BOS as the tokenizer says: the reference ids start with it.
  CHECK(e.Tokenize(Case0().prompt, /*add_bos=*/true) == Case0().ids);
  auto all = Engine::Load(kModel);
  CHECK(all->threads() ==
        std::max<size_t>(1, std::thread::hardware_concurrency()));
}

TEST_CASE("Engine: greedy text equals transformers' continuation") {
  const Reference& ref = Case0();
  Engine& e = Shared();
  std::string streamed;
  size_t pieces = 0;
  const GenerateResult r =
      e.Generate(ref.prompt, Greedy(48), [&](std::string_view t) {
        streamed += t;
        ++pieces;
        return true;
      });
  CHECK(r.text == ref.greedy_text);
  CHECK(streamed == r.text);
  CHECK(pieces > 1);
  REQUIRE(r.tokens.size() == 48);
  CHECK(std::vector<int32_t>(ref.greedy_ids.begin(),
                             ref.greedy_ids.begin() + 48) == r.tokens);
  CHECK(r.finish == FinishReason::kLength);
  CHECK(FinishReasonName(r.finish) == "length");
  CHECK(r.prompt_tokens == ref.ids.size());
}

TEST_CASE("Engine: a repeated or extended prompt reuses the KV cache") {
  const Reference& ref = Case0();
  Engine& e = Shared();
  e.Reset();
  const GenerateResult a = e.Generate(ref.prompt, Greedy(8));
  CHECK(a.cached_tokens == 0);
  const GenerateResult b = e.Generate(ref.prompt, Greedy(8));
  CHECK(b.cached_tokens == ref.ids.size() - 1);
  CHECK(b.text == a.text);
  // The prompt plus the text generated so far: everything but the last
  // generated token (not yet fed) comes from the cache, and the result is
  // what a fresh engine computes.
  const std::string longer = ref.prompt + a.text;
  const GenerateResult c = e.Generate(longer, Greedy(8));
  CHECK(c.cached_tokens >= ref.ids.size());
  auto fresh = Engine::Load(kModel, EngineOptions{.threads = 1});
  const GenerateResult d = fresh->Generate(longer, Greedy(8));
  CHECK(d.cached_tokens == 0);
  CHECK(c.text == d.text);
  CHECK(c.tokens == d.tokens);
  // A different prompt shares only BOS with the cache.
  const GenerateResult other = e.Generate("JULIET:", Greedy(2));
  CHECK(other.cached_tokens == 1);
}

TEST_CASE("Engine: a stop string ends the text before it") {
  const Reference& ref = Case0();
  Engine& e = Shared();
  const size_t at = ref.greedy_text.find("sir");
  REQUIRE(at != std::string::npos);
  GenerateOptions o = Greedy(48);
  o.stop = {"sir"};
  std::string streamed;
  const GenerateResult r = e.Generate(ref.prompt, o, [&](std::string_view t) {
    streamed += t;
    return true;
  });
  CHECK(r.finish == FinishReason::kStopString);
  CHECK(r.text == ref.greedy_text.substr(0, at));
  CHECK(streamed == r.text);
  // A stop string that never appears changes nothing.
  o.stop = {"zzz-not-in-the-text"};
  CHECK(e.Generate(ref.prompt, o).text == ref.greedy_text);
}

TEST_CASE("Engine: the weights without a tokenizer (load_tokenizer)") {
  // A copy whose tokenizer.json is broken: refused by default, naming the
  // file; loaded for ids only with load_tokenizer = false, same logits.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "ternary_engine_test_no_tok";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kModel, dir);
  std::ofstream(dir / "tokenizer.json") << "{\"model\": 7}";
  test::ExpectError<FormatError>(
      [&] { Engine::Load(dir, EngineOptions{.threads = 1}); },
      {"tokenizer.json"});
  auto e =
      Engine::Load(dir, EngineOptions{.threads = 1, .load_tokenizer = false});
  auto ref = Engine::Load(kModel, EngineOptions{.threads = 1});
  const std::vector<int32_t>& ids = Case0().ids;
  CHECK(e->Forward(ids, Logits::kAll) == ref->Forward(ids, Logits::kAll));
  test::ExpectError<UsageError>([&] { e->Tokenize("hi"); },
                                {"no tokenizer", "load_tokenizer"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("Engine: end of text, and ignore_eos") {
  // The tiny model never samples its end-of-text tokens; a copy whose
  // config.json declares the first greedy token (363) its eos_token_id
  // ends at once, and with ignore_eos never samples that token.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "ternary_engine_test_eos363";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kModel, dir);
  std::string config;
  {
    std::ifstream in(dir / "config.json");
    config.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = config.find("\"eos_token_id\": 4092");
  REQUIRE(at != std::string::npos);
  config.replace(at, 20, "\"eos_token_id\": 363");
  std::ofstream(dir / "config.json") << config;
  REQUIRE(Case0().greedy_ids.front() == 363);

  auto e = Engine::Load(dir, EngineOptions{.threads = 1});
  const GenerateResult ended = e->Generate(Case0().prompt, Greedy(20));
  CHECK(ended.finish == FinishReason::kEndOfText);
  CHECK(ended.tokens.empty());
  CHECK(ended.text.empty());
  GenerateOptions o = Greedy(20);
  o.ignore_eos = true;
  const GenerateResult on = e->Generate(Case0().prompt, o);
  CHECK(on.finish == FinishReason::kLength);
  CHECK(on.tokens.size() == 20);
  CHECK(std::find(on.tokens.begin(), on.tokens.end(), 363) == on.tokens.end());
  std::filesystem::remove_all(dir);
}

TEST_CASE("Engine: the callback cancels") {
  Engine& e = Shared();
  size_t calls = 0;
  const GenerateResult r =
      e.Generate(Case0().prompt, Greedy(48), [&](std::string_view) {
        ++calls;
        return false;
      });
  CHECK(calls == 1);
  CHECK(r.finish == FinishReason::kCancelled);
  CHECK(r.tokens.size() < 48);
  CHECK_FALSE(r.text.empty());
}

TEST_CASE("Engine: generation stops at a full context") {
  const Reference& ref = Case0();
  const size_t context = ref.ids.size() + 5;
  auto e =
      Engine::Load(kModel, EngineOptions{.threads = 1, .context = context});
  CHECK(e->context() == context);
  const GenerateResult r = e->Generate(ref.prompt, Greedy(-1));
  CHECK(r.finish == FinishReason::kContextFull);
  // Every generated token but the last is fed: the cache is full.
  CHECK(e->position() == context);
  CHECK(r.tokens.size() == context - ref.ids.size() + 1);
  CHECK(r.text == ref.greedy_text.substr(0, r.text.size()));
  // A prompt longer than the context is refused.
  std::string long_prompt;
  for (int i = 0; i < 40; ++i) long_prompt += "ROMEO: ";
  test::ExpectError<UsageError>([&] { e->Generate(long_prompt, Greedy(1)); },
                                {"more than the context of"});
}

TEST_CASE("Engine: chat renders the template and drops the oldest turns") {
  Engine& e = Shared();
  const std::vector<ChatMessage> one = {{"user", "Hello"}};
  CHECK(e.ChatPrompt(one) == ApplyChatTemplate(one));
  const GenerateResult r = e.Chat(one, Greedy(4));
  CHECK(r.prompt_tokens == e.Tokenize(ApplyChatTemplate(one), true).size());
  CHECK(r.dropped_messages == 0);

  // A conversation longer than a small context: the oldest turns go, the
  // system message and the last user message stay.
  auto small = Engine::Load(kModel, EngineOptions{.threads = 1, .context = 48});
  std::vector<ChatMessage> chat = {{"system", "Be brief."}};
  for (int i = 0; i < 6; ++i) {
    chat.push_back({"user", "Tell me of Verona and its two households."});
    chat.push_back({"assistant", "Two households, both alike in dignity."});
  }
  chat.push_back({"user", "And then?"});
  const GenerateResult t = small->Chat(chat, Greedy(2));
  CHECK(t.dropped_messages > 0);
  CHECK(t.prompt_tokens + 1 <= 48);
  std::vector<ChatMessage> kept = {chat.front()};
  kept.insert(kept.end(), chat.begin() + 1 + long(t.dropped_messages),
              chat.end());
  CHECK(kept[1].role == "user");
  CHECK(t.prompt_tokens ==
        small->Tokenize(ApplyChatTemplate(kept), true).size());
}

TEST_CASE("Engine: chat templates by name and from the file") {
  auto e = Engine::Load(kModel,
                        EngineOptions{.threads = 1, .chat_template = "llama3"});
  CHECK(e->chat_template() == ChatTemplate::kLlama3);
  const std::vector<ChatMessage> one = {{"user", " Hi "}};
  CHECK(e->ChatPrompt(one) ==
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  test::ExpectError<UsageError>(
      [&] {
        Engine::Load(kModel, EngineOptions{.chat_template = "jinja-please"});
      },
      {"chat template 'jinja-please' is not one of"});
}

TEST_CASE("Engine: bad options and a missing tokenizer are errors") {
  test::ExpectError<UsageError>(
      [&] { Engine::Load(kModel, EngineOptions{.packing = "q4"}); },
      {"--packing 'q4'"});
  test::ExpectError<UsageError>(
      [&] { Engine::Load(kModel, EngineOptions{.act = "a2"}); }, {"a8 or a4"});
  test::ExpectError<Error>([&] { Engine::Load(kModel + "/no-such-folder"); },
                           {"no-such-folder"});
  ModelConfig config = Shared().config();
  auto random = Engine::Random(config, EngineOptions{.threads = 1});
  CHECK_FALSE(random->has_tokenizer());
  const std::vector<int32_t> ids = {1, 2, 3};
  CHECK(random->Forward(ids, Logits::kAll).size() == 3 * random->vocab());
  CHECK(random->position() == 3);
  CHECK(std::vector<int32_t>(random->cached_tokens().begin(),
                             random->cached_tokens().end()) == ids);
  random->Truncate(1);
  CHECK(random->position() == 1);
  test::ExpectError<UsageError>([&] { random->Generate("x"); },
                                {"no tokenizer"});
}

TEST_CASE("Engine: several sequences in one ForwardBatch") {
  auto e = Engine::Load(kModel, EngineOptions{.threads = 2});
  const std::vector<int32_t> a = e->Tokenize(Case0().prompt, true);
  const std::vector<int32_t> b = e->Tokenize("JULIET:\nO Romeo, Romeo!", true);
  // Each alone through sequence 0.
  const std::vector<float> want_a = e->Forward(a, Logits::kLast);
  e->Reset();
  const std::vector<float> want_b = e->Forward(b, Logits::kLast);
  const int32_t next_a = 363, next_b = 11;
  const std::vector<float> want_b2 =
      e->Forward(std::span<const int32_t>(&next_b, 1), Logits::kLast);
  e->Reset();
  e->Forward(a, Logits::kNone);
  const std::vector<float> want_a2 =
      e->Forward(std::span<const int32_t>(&next_a, 1), Logits::kLast);

  // Both prompts at once, then one token each, at different positions.
  const Engine::SequenceId sa = e->OpenSequence(), sb = e->OpenSequence();
  CHECK(sa != sb);
  CHECK(e->open_sequences() == 3);
  const size_t v = e->vocab();
  std::vector<float> logits(2 * v);
  const Engine::BatchInput prefill[] = {{sa, a, true}, {sb, b, true}};
  e->ForwardBatch(prefill, logits.data());
  CHECK(std::vector<float>(logits.begin(), logits.begin() + long(v)) == want_a);
  CHECK(std::vector<float>(logits.begin() + long(v), logits.end()) == want_b);
  CHECK(e->position(sa) == a.size());
  CHECK(e->position(sb) == b.size());
  const Engine::BatchInput step[] = {
      {sb, std::span<const int32_t>(&next_b, 1), true},
      {sa, std::span<const int32_t>(&next_a, 1), true}};
  e->ForwardBatch(step, logits.data());
  CHECK(std::vector<float>(logits.begin(), logits.begin() + long(v)) ==
        want_b2);
  CHECK(std::vector<float>(logits.begin() + long(v), logits.end()) == want_a2);

  // Misuse is a UsageError; nothing changes.
  const Engine::BatchInput twice[] = {{sa, a, true}, {sa, b, true}};
  test::ExpectError<UsageError>([&] { e->ForwardBatch(twice, logits.data()); },
                                {"appears twice"});
  CHECK(e->position(sa) == a.size() + 1);
  e->CloseSequence(sb);
  CHECK(e->open_sequences() == 2);
  const Engine::BatchInput closed[] = {{sb, a, true}};
  test::ExpectError<UsageError>([&] { e->ForwardBatch(closed, logits.data()); },
                                {"sequence", "is not open"});
  test::ExpectError<UsageError>([&] { e->CloseSequence(0); },
                                {"cannot be closed"});
  CHECK(e->OpenSequence() == sb);  // the id is handed out again
}

TEST_CASE("Engine: loads the model family the file holds") {
  // A Llama-architecture ternary checkpoint (LlamaForCausalLM with bitnet
  // quantization; tests/data/families/llama_bitnet, whose reference logits
  // come from an independent numpy forward pass).
  const std::string dir =
      std::string(TERNARY_TEST_DATA_DIR) + "/families/llama_bitnet";
  auto e = Engine::Load(dir, EngineOptions{.threads = 1});
  CHECK(e->config().family == ModelFamily::kLlamaBitNet);
  CHECK_FALSE(e->config().tie_word_embeddings);
  std::ifstream in(dir + "/reference.json");
  const nlohmann::json ref = nlohmann::json::parse(in);
  const auto ids = ref.at("cases").at(0).at("ids").get<std::vector<int32_t>>();
  const size_t first = ref.at("cases").at(0).at("first_row").get<size_t>();
  const size_t v = e->vocab();
  std::vector<float> want(ids.size() * v);
  std::ifstream logits(dir + "/reference_logits.f32", std::ios::binary);
  logits.seekg(std::streamoff(first * v * sizeof(float)));
  logits.read(reinterpret_cast<char*>(want.data()),
              std::streamsize(want.size() * sizeof(float)));
  REQUIRE(logits.good());
  const std::vector<float> got = e->Forward(ids, Logits::kAll);
  REQUIRE(got.size() == want.size());
  for (size_t t = 0; t < ids.size(); ++t) {
    const auto row = want.begin() + long(t * v);
    const auto [lo, hi] = std::minmax_element(row, row + long(v));
    float worst = 0;
    for (size_t i = 0; i < v; ++i) {
      worst = std::max(worst, std::abs(got[t * v + i] - row[long(i)]));
    }
    CAPTURE(t);
    CHECK(worst <= 1e-5f * (*hi - *lo));
  }
  // Text generation runs on it too (its tokenizer is the tiny model's).
  CHECK(e->Generate("ROMEO:", Greedy(4)).tokens.size() == 4);
}

TEST_CASE("Engine: a family's chat format when the file has no template") {
  const std::string families = std::string(TERNARY_TEST_DATA_DIR) + "/families";
  const std::vector<ChatMessage> one = {{"user", " Hi "}};
  // A Llama-architecture checkpoint whose vocabulary has Llama 3's chat
  // tokens (as Llama3-8B-1.58's): Llama 3 Instruct's format.
  auto llama =
      Engine::Load(families + "/llama_bitnet", EngineOptions{.threads = 1});
  CHECK(llama->chat_template() == ChatTemplate::kLlama3);
  // 1bitLLM: a base model with a SentencePiece vocabulary and no chat
  // tokens: plain text, and the reply ends where the user's turn would.
  auto onebit =
      Engine::Load(families + "/1bitllm", EngineOptions{.threads = 1});
  CHECK(onebit->chat_template() == ChatTemplate::kPlain);
  CHECK(onebit->ChatPrompt(one) == "User: Hi\nAssistant:");
  const GenerateResult r = onebit->Chat(one, Greedy(8));
  CHECK(r.prompt_tokens ==
        onebit->Tokenize("User: Hi\nAssistant:", true, true).size());
  CHECK(r.text.find("\nUser:") == std::string::npos);
  // The BitNet family keeps 2B4T's trained format.
  auto bitnet = Engine::Load(kModel, EngineOptions{.threads = 1});
  CHECK(bitnet->chat_template() == ChatTemplate::kHuggingFace);
}

TEST_CASE("Engine: every packing and activation gives the greedy text") {
  // Every policy computes the same integer dot products; the tiny model's
  // greedy text is the same for each (A4 is a different model: only A8).
  for (const char* packing : {"i2s", "tl1", "tl2"}) {
    CAPTURE(packing);
    auto e =
        Engine::Load(kModel, EngineOptions{.packing = packing, .threads = 1});
    CHECK(e->packing() == packing);
    const GenerateResult r = e->Generate(Case0().prompt, Greedy(16));
    CHECK(r.tokens == std::vector<int32_t>(Case0().greedy_ids.begin(),
                                           Case0().greedy_ids.begin() + 16));
  }
}

}  // namespace
}  // namespace ternary
