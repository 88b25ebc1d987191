// `ternary serve`: an OpenAI-compatible HTTP server (cpp-httplib,
// nlohmann-json) over a ternary::BatchGenerator: up to -np requests decode
// together, one Engine::ForwardBatch per step, and new prompts join the
// batch while others decode.
//
//   POST /v1/chat/completions, POST /v1/completions  (stream: true: SSE,
//        ending with `data: [DONE]`)
//   GET  /v1/models, /health, /metrics (Prometheus text), / (a chat page)
//
// Every bad request gets a 4xx with an OpenAI-style error object
// ({"error": {"message", "type", "param", "code"}}); more requests than
// sequences wait in a bounded queue, then 503; with --api-key, /v1/* wants
// `Authorization: Bearer KEY` (401 otherwise). A client that goes away
// frees its sequence at the next step: an answer checks its connection at
// each token it sends and four times a second while it waits (a
// non-streaming answer that takes over 200 ms is sent chunked for that,
// with status 200 from then on). SIGINT / SIGTERM: cancel what runs (each
// answer still goes out: a stream ends with an error event and [DONE]),
// stop accepting, exit 0.
#ifndef TERNARY_EXAMPLES_CLI_SERVE_H_
#define TERNARY_EXAMPLES_CLI_SERVE_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "cli/args.h"
#include "cli/engine.h"
#include "cli/generation_options.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/runtime/batch_generator.h"
#include "ternary/runtime/engine.h"
#include "ternary/tokenizer/chat_template.h"
#include "ternary/util/error.h"

#ifdef TERNARY_HAVE_HTTPLIB
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "chat_page.h"  // generated from cli/chat_page.html (kChatPage)
#endif

namespace ternary::cli {

inline constexpr std::string_view kServeUsage =
    "[-m MODEL] [--host 127.0.0.1] [--port 8080] [-np SLOTS] [-c CTX] "
    "[-t N] [--api-key KEY] ...";

inline const std::string& ServeHelp() {
  static const std::string help =
      "An OpenAI-compatible HTTP server: POST /v1/chat/completions and "
      "/v1/completions\n(stream: true for server-sent events), GET "
      "/v1/models, /health, /metrics\n(Prometheus), and a chat page at /. Up "
      "to -np requests generate at once, one\nbatch through the model per "
      "step; more wait in a queue (then 503). Without -m,\nserves the "
      "embedded tiny-shakespeare model. SIGINT/SIGTERM stop it (exit 0).\n\n"
      "  --host ADDR          address to listen on (default 127.0.0.1: this "
      "machine only)\n"
      "  --port N             port (default 8080; 0: any free one, printed)\n"
      "  -np, --parallel N    requests generating at once (default 4)\n"
      "  --max-queue N        requests waiting for a slot before 503 "
      "(default 64)\n"
      "  --api-key KEY        require `Authorization: Bearer KEY` on /v1/*\n"
      "  --alias NAME         the model's name in /v1/models and requests "
      "(default: the\n"
      "                       model file or folder name)\n"
      "  --max-body BYTES     largest request body (default 1048576; more: "
      "413)\n"
      "  --http-threads N     connections served at once, idle keep-alive ones "
      "included\n                       (default 128)\n"
      "  --timeout S          seconds a client may take to send its request "
      "(default 10)\n"
      "  --prefill-chunk N    prompt tokens per step, so that a long prompt "
      "delays the\n"
      "                       others' tokens by one chunk (default 256)\n"
      "  -n (max_tokens, default 256), --stop and the sampling flags below "
      "are the\n  defaults of requests that leave them out; without --seed "
      "each request draws\n  its own.\n" +
      std::string(kGenerationHelp) + std::string(kSamplingHelp) +
      std::string(kModelOptionsHelp);
  return help;
}

#ifdef TERNARY_HAVE_HTTPLIB

namespace serve {

using json = nlohmann::json;

// The command line of `ternary serve`.
struct ServeOptions {
  ModelOptions model;
  GenerationFlags flags;
  std::optional<uint64_t> seed;  // --seed: every request's default
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t slots = 4;
  size_t max_queue = 64;
  std::string api_key;
  std::string alias;
  size_t max_body = size_t{1} << 20;
  size_t http_threads = 128;
  int timeout = 10;
  size_t prefill_chunk = 256;
};

// An error answer: HTTP status and OpenAI's error object.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string code = {};
  std::string param = {};
};

inline std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

inline json ErrorJson(const ApiError& e) {
  json err = {{"message", e.message},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
  return json{{"error", err}};
}

inline std::string StatusText(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 404:
      return "Not found";
    case 405:
      return "Method not allowed";
    case 408:
      return "Request timeout";
    case 413:
      return "The request body is too large";
    case 414:
      return "The request URI is too long";
    case 416:
      return "Range not satisfiable";
    case 431:
      return "The request headers are too large";
    case 501:
      return "Not implemented";
    case 503:
      return "Service unavailable";
  }
  return "HTTP error " + std::to_string(status);
}

inline void SetError(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(Dump(ErrorJson(e)), "application/json");
}

// Deepest nesting of [ and { outside strings (nlohmann's parser is
// iterative, but nothing here needs more than a few levels).
inline size_t JsonDepth(std::string_view s) {
  size_t depth = 0, most = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      most = std::max(most, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return most;
}

// Typed access to a request's fields: absent or null gives nullopt, the
// wrong type an ApiError naming the field.
class Fields {
 public:
  explicit Fields(const json& body) : body_(body) {}

  const json* Get(const char* name) const {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  [[noreturn]] static void Fail(const char* name, const std::string& what) {
    throw ApiError{400, "'" + std::string(name) + "' " + what,
                   "invalid_request_error", "invalid_value", name};
  }

  std::optional<int64_t> Int(const char* name, int64_t min, int64_t max) const {
    const json* v = Get(name);
    if (!v) return std::nullopt;
    int64_t x = 0;
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (u > uint64_t(max)) {
        Fail(name, "must be in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "], got " + std::to_string(u));
      }
      x = int64_t(u);
    } else if (v->is_number_integer()) {
      x = v->get<int64_t>();
    } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
               std::fabs(v->get<double>()) < 9e15 &&
               v->get<double>() == std::floor(v->get<double>())) {
      x = int64_t(v->get<double>());  // 5.0 is 5
    } else {
      Fail(name, "must be an integer");
    }
    if (x < min || x > max) {
      Fail(name, "must be in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "], got " + std::to_string(x));
    }
    return x;
  }

  std::optional<double> Number(const char* name, double min, double max) const {
    const json* v = Get(name);
    if (!v) return std::nullopt;
    if (!v->is_number()) Fail(name, "must be a number");
    const double x = v->get<double>();
    if (!(x >= min && x <= max)) {
      Fail(name, "must be in [" + FormatNumber(min) + ", " + FormatNumber(max) +
                     "], got " + FormatNumber(x));
    }
    return x;
  }

  std::optional<bool> Bool(const char* name) const {
    const json* v = Get(name);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) Fail(name, "must be true or false");
    return v->get<bool>();
  }

  std::optional<std::string> String(const char* name) const {
    const json* v = Get(name);
    if (!v) return std::nullopt;
    if (!v->is_string()) Fail(name, "must be a string");
    return v->get<std::string>();
  }

  static std::string FormatNumber(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
  }

 private:
  const json& body_;
};

// A parsed generation request.
struct Parsed {
  bool chat = false;
  std::vector<int32_t> tokens;
  GenerateOptions options;
  bool stream = false;
  bool include_usage = false;
};

// What a request waits on: the generator thread fills it, the HTTP thread
// writes it out.
struct Job {
  explicit Job(std::atomic<int>& live) : live_(live) { ++live_; }
  ~Job() { --live_; }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::string> pieces;  // streamed text not yet written
  bool done = false;
  BatchResult result;
  std::atomic<bool> gone{false};  // the client went away
  BatchGenerator::Id id = 0;

 private:
  std::atomic<int>& live_;  // the server's count of requests in flight
};

// How often a waiting answer checks that its client is still there.
inline constexpr std::chrono::milliseconds kClientCheck{250};

inline std::string_view OpenAiFinish(FinishReason r) {
  switch (r) {
    case FinishReason::kLength:
    case FinishReason::kContextFull:
      return "length";
    case FinishReason::kEndOfText:
    case FinishReason::kStopString:
    case FinishReason::kCancelled:
      break;
  }
  return "stop";
}

class Server {
 public:
  Server(Engine& engine, BatchGenerator& batch, const ServeOptions& options,
         std::string model_name)
      : engine_(engine),
        batch_(batch),
        options_(options),
        model_name_(std::move(model_name)),
        created_(std::time(nullptr)),
        rng_(std::random_device{}()) {
    Routes();
  }

  httplib::Server& http() { return http_; }
  bool shutting_down() const { return shutting_down_; }

  void set_port(int port) { port_ = port; }

  // Stops (signal thread): what runs or waits is cancelled, and its answer
  // goes out (a stream ends with an error event and [DONE]; new requests
  // get 503); then the server stops accepting, and connections waiting
  // for their next request close at once.
  void Shutdown() {
    shutting_down_ = true;
    batch_.Stop();
    for (int i = 0; i < 500 && live_jobs_ > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ShutdownReads(port_);
    http_.stop();
  }

 private:
  void Routes() {
    const size_t threads = options_.http_threads;
    http_.new_task_queue = [threads] {
      return new httplib::ThreadPool(threads);
    };
    http_.set_payload_max_length(options_.max_body);
    http_.set_read_timeout(options_.timeout, 0);
    http_.set_write_timeout(options_.timeout, 0);
    http_.set_keep_alive_timeout(5);
    http_.set_tcp_nodelay(true);
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
    // second server on the same port would start and share the traffic.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });

    http_.set_pre_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (options_.api_key.empty() || req.path.rfind("/v1/", 0) != 0) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          if (!Authorized(req)) {
            SetError(res, ApiError{401,
                                   "Incorrect or missing API key: send "
                                   "'Authorization: Bearer KEY'",
                                   "invalid_request_error", "invalid_api_key"});
            return httplib::Server::HandlerResponse::Handled;
          }
          return httplib::Server::HandlerResponse::Unhandled;
        });
    // Statuses httplib sets itself (404, 413, 400 for a bad request line)
    // get an error object too.
    http_.set_error_handler(
        [](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty()) return;
          ApiError e{res.status, StatusText(res.status)};
          if (res.status == 404) {
            e.code = "not_found";
          } else if (res.status == 413) {
            e.code = "request_too_large";
          }
          if (res.status >= 500) e.type = "server_error";
          SetError(res, e);
        });
    http_.set_exception_handler([](const httplib::Request&,
                                   httplib::Response& res,
                                   std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      SetError(res, ApiError{500, what, "server_error"});
    });
    http_.set_logger(
        [this](const httplib::Request& req, const httplib::Response& res) {
          {
            std::lock_guard<std::mutex> lock(metrics_mutex_);
            ++http_status_[res.status];
          }
          if (!LogDisabled() && options_.model.verbose) {
            std::fprintf(stderr, "ternary serve: %s %s %d\n",
                         req.method.c_str(), req.path.c_str(), res.status);
          }
        });

    http_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(reinterpret_cast<const char*>(kChatPage),
                      sizeof kChatPage, "text/html; charset=utf-8");
    });
    http_.Get("/health",
              [this](const httplib::Request&, httplib::Response& res) {
                if (shutting_down_) {
                  SetError(res, ApiError{503, "The server is shutting down",
                                         "server_error", "shutting_down"});
                  return;
                }
                res.set_content(R"({"status":"ok"})", "application/json");
              });
    http_.Get("/v1/models",
              [this](const httplib::Request&, httplib::Response& res) {
                res.set_content(Dump(ModelsJson()), "application/json");
              });
    http_.Get("/metrics", [this](const httplib::Request&,
                                 httplib::Response& res) {
      res.set_content(Metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    for (const char* path : {"/v1/chat/completions", "/v1/completions"}) {
      const bool chat = std::string_view(path) == "/v1/chat/completions";
      http_.Post(path, [this, chat](const httplib::Request& req,
                                    httplib::Response& res) {
        Generate(req, res, chat);
      });
      http_.Get(path, [](const httplib::Request&, httplib::Response& res) {
        SetError(res, ApiError{405, "Use POST", "invalid_request_error",
                               "method_not_allowed"});
        res.set_header("Allow", "POST");
      });
    }
  }

  bool Authorized(const httplib::Request& req) const {
    const std::string want = "Bearer " + options_.api_key;
    const std::string got = req.get_header_value("Authorization");
    // Constant time in the key's length.
    unsigned diff = got.size() != want.size();
    for (size_t i = 0; i < want.size(); ++i) {
      diff |= unsigned(uint8_t(want[i]) ^ uint8_t(i < got.size() ? got[i] : 0));
    }
    return diff == 0;
  }

  json ModelsJson() const {
    const ModelConfig& c = engine_.config();
    json model = {{"id", model_name_},
                  {"object", "model"},
                  {"created", created_},
                  {"owned_by", "ternary"},
                  {"meta",
                   {{"n_ctx", engine_.context()},
                    {"n_vocab", engine_.vocab()},
                    {"n_params", ParameterCount(c)},
                    {"packing", engine_.packing()},
                    {"act", engine_.act()},
                    {"slots", batch_.options().sequences}}}};
    return json{{"object", "list"}, {"data", json::array({model})}};
  }

  std::string Metrics() const {
    const BatchStats s = batch_.stats();
    std::string out;
    auto metric = [&](const char* name, const char* type, const char* help,
                      const std::vector<std::pair<std::string, double>>& v) {
      out += std::string("# HELP ternary_") + name + " " + help + "\n";
      out += std::string("# TYPE ternary_") + name + " " + type + "\n";
      for (const auto& [labels, value] : v) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", value);
        out += std::string("ternary_") + name + labels + " " + buf + "\n";
      }
    };
    metric("requests_total", "counter", "Generation requests accepted.",
           {{"", double(s.submitted)}});
    metric("requests_rejected_total", "counter",
           "Generation requests refused with 503 (queue full or stopping).",
           {{"", double(s.rejected)}});
    std::vector<std::pair<std::string, double>> finished;
    for (size_t r = 0; r < s.finished.size(); ++r) {
      finished.emplace_back(
          "{reason=\"" +
              std::string(FinishReasonName(static_cast<FinishReason>(r))) +
              "\"}",
          double(s.finished[r]));
    }
    metric("requests_finished_total", "counter",
           "Generation requests done, by how they ended.", finished);
    metric("prompt_tokens_total", "counter", "Prompt tokens of requests.",
           {{"", double(s.prompt_tokens)}});
    metric("prompt_tokens_cached_total", "counter",
           "Prompt tokens reused from a slot's KV cache.",
           {{"", double(s.cached_tokens)}});
    metric("tokens_generated_total", "counter", "Tokens generated.",
           {{"", double(s.generated_tokens)}});
    metric("tokens_per_second", "gauge",
           "Tokens generated per second over the last 10 s.",
           {{"", s.tokens_per_second}});
    metric("queue_depth", "gauge", "Requests waiting for a slot.",
           {{"", double(s.queued)}});
    metric("requests_active", "gauge", "Requests prefilling or decoding.",
           {{"", double(s.active)}});
    metric("slots", "gauge", "Requests that can generate at once (-np).",
           {{"", double(s.sequences)}});
    metric("batch_steps_total", "counter", "Batched forward passes.",
           {{"", double(s.steps)}});
    metric("batch_sequences_total", "counter",
           "Sequences over all batched forward passes.",
           {{"", double(s.batched_sequences)}});
    metric("busy_seconds_total", "counter", "Seconds spent in batch steps.",
           {{"", s.busy_seconds}});
    std::vector<std::pair<std::string, double>> http;
    {
      std::lock_guard<std::mutex> lock(metrics_mutex_);
      for (const auto& [code, n] : http_status_) {
        http.emplace_back("{code=\"" + std::to_string(code) + "\"}", double(n));
      }
      metric("client_disconnects_total", "counter",
             "Generations cancelled because the client went away.",
             {{"", double(disconnects_)}});
    }
    metric("http_responses_total", "counter", "HTTP responses by status.",
           http);
    return out;
  }

  // --- Requests -----------------------------------------------------------

  std::vector<ChatMessage> Messages(const json& body) const {
    const json* m = Fields(body).Get("messages");
    if (!m) Fields::Fail("messages", "is required");
    if (!m->is_array() || m->empty()) {
      Fields::Fail("messages", "must be a non-empty array");
    }
    std::vector<ChatMessage> out;
    for (const json& msg : *m) {
      if (!msg.is_object()) Fields::Fail("messages", "must hold objects");
      const Fields f(msg);
      const std::optional<std::string> role = f.String("role");
      if (!role) Fields::Fail("messages", "need a 'role'");
      std::string r = *role;
      if (r == "developer") r = "system";
      if (r != "system" && r != "user" && r != "assistant") {
        throw ApiError{400,
                       "role '" + *role +
                           "' is not supported (system, developer, user, "
                           "assistant)",
                       "invalid_request_error", "invalid_value", "messages"};
      }
      std::string content;
      const json* c = f.Get("content");
      if (c == nullptr) {
        if (r != "assistant") Fields::Fail("messages", "need a 'content'");
      } else if (c->is_string()) {
        content = c->get<std::string>();
      } else if (c->is_array()) {
        for (const json& part : *c) {
          if (!part.is_object() || part.value("type", "") != "text" ||
              !part.contains("text") || !part["text"].is_string()) {
            throw ApiError{400,
                           "only text content parts ({\"type\": \"text\", "
                           "\"text\": ...}) are supported",
                           "invalid_request_error", "invalid_value",
                           "messages"};
          }
          content += part["text"].get<std::string>();
        }
      } else {
        Fields::Fail("messages", "content must be a string or an array");
      }
      out.push_back({std::move(r), std::move(content)});
    }
    return out;
  }

  Parsed Parse(const httplib::Request& req, bool chat) {
    if (JsonDepth(req.body) > 64) {
      throw ApiError{400, "The JSON body is nested too deeply"};
    }
    json body;
    try {
      body = json::parse(req.body);
    } catch (const json::exception& e) {
      throw ApiError{400,
                     std::string("The body is not valid JSON: ") + e.what()};
    }
    if (!body.is_object())
      throw ApiError{400, "The body must be a JSON object"};
    const Fields f(body);
    if (auto model = f.String("model");
        model && !model->empty() && *model != model_name_) {
      throw ApiError{404,
                     "The model '" + *model +
                         "' does not exist (this server "
                         "has '" +
                         model_name_ + "')",
                     "invalid_request_error", "model_not_found", "model"};
    }
    if (auto n = f.Int("n", 1, 1000000); n && *n != 1) {
      Fields::Fail("n", "must be 1: one choice per request");
    }
    if (auto b = f.Int("best_of", 1, 1000000); b && *b != 1) {
      Fields::Fail("best_of", "must be 1");
    }
    if (const json* lp = f.Get("logprobs");
        lp && !(lp->is_boolean() && !lp->get<bool>())) {
      Fields::Fail("logprobs", "is not supported");
    }
    if (const json* t = f.Get("tools"); t && !(t->is_array() && t->empty())) {
      Fields::Fail("tools", "are not supported");
    }
    if (f.Bool("echo").value_or(false))
      Fields::Fail("echo", "is not supported");

    Parsed p;
    p.chat = chat;
    GenerateOptions& o = p.options;
    o = options_.flags.Options();
    o.sampling.seed = options_.seed ? *options_.seed : NextSeed();
    std::optional<int64_t> max_tokens = f.Int("max_tokens", 0, 1 << 30);
    if (auto m = f.Int("max_completion_tokens", 0, 1 << 30)) max_tokens = m;
    if (auto t = f.Number("temperature", 0.0, 100.0)) {
      o.sampling.temperature = float(*t);
    }
    if (auto t = f.Number("top_p", 0.0, 1.0)) {
      if (*t == 0.0) Fields::Fail("top_p", "must be > 0 (1: off)");
      o.sampling.top_p = float(*t);
    }
    if (auto k = f.Int("top_k", 0, 1 << 30)) o.sampling.top_k = int(*k);
    if (auto m = f.Number("min_p", 0.0, 1.0)) o.sampling.min_p = float(*m);
    if (auto r = f.Number("repeat_penalty", 0.001, 1000.0)) {
      o.sampling.repeat_penalty = float(*r);
    }
    (void)f.Number("presence_penalty", -2.0, 2.0);  // accepted, unused
    (void)f.Number("frequency_penalty", -2.0, 2.0);
    if (const json* s = f.Get("seed")) {
      if (s->is_number_unsigned()) {
        o.sampling.seed = s->get<uint64_t>();
      } else if (s->is_number_integer()) {
        o.sampling.seed = uint64_t(s->get<int64_t>());
      } else {
        Fields::Fail("seed", "must be an integer");
      }
    }
    if (const json* s = f.Get("stop")) {
      std::vector<std::string> stops;
      if (s->is_string()) {
        stops.push_back(s->get<std::string>());
      } else if (s->is_array()) {
        for (const json& x : *s) {
          if (!x.is_string()) Fields::Fail("stop", "must hold strings");
          stops.push_back(x.get<std::string>());
        }
      } else {
        Fields::Fail("stop", "must be a string or an array of strings");
      }
      if (stops.size() > 16) Fields::Fail("stop", "holds at most 16 strings");
      o.stop.clear();  // the request's replace -r/--stop
      for (const std::string& x : stops) {
        if (x.size() > 1024) Fields::Fail("stop", "strings are too long");
        o.stop.push_back(x);
      }
    }
    if (auto ie = f.Bool("ignore_eos")) o.ignore_eos = *ie;
    p.stream = f.Bool("stream").value_or(false);
    if (const json* so = f.Get("stream_options")) {
      if (!so->is_object()) {
        Fields::Fail("stream_options", "must be an object");
      }
      p.include_usage = Fields(*so).Bool("include_usage").value_or(false);
    }

    if (chat) {
      const std::vector<ChatMessage> messages = Messages(body);
      p.tokens = engine_.Tokenize(engine_.ChatPrompt(messages),
                                  /*add_bos=*/true, /*parse_special=*/true);
      AppendChatStops(engine_.chat_template(), o.stop);
    } else {
      const json* prompt = f.Get("prompt");
      if (!prompt) Fields::Fail("prompt", "is required");
      const json* one = prompt;
      if (prompt->is_array()) {
        if (prompt->size() != 1 || !(*prompt)[0].is_string()) {
          Fields::Fail("prompt",
                       "must be a string (or an array of one string)");
        }
        one = &(*prompt)[0];
      }
      if (!one->is_string()) Fields::Fail("prompt", "must be a string");
      p.tokens = engine_.Tokenize(one->get<std::string>(), /*add_bos=*/true,
                                  /*parse_special=*/true);
      if (p.tokens.empty()) Fields::Fail("prompt", "is empty");
    }
    const size_t ctx = engine_.context();
    const size_t n = p.tokens.size();
    if (max_tokens) {
      o.max_tokens = *max_tokens;
      if (n + size_t(*max_tokens) > ctx) {
        throw ApiError{
            400,
            "This model's maximum context length is " + std::to_string(ctx) +
                " tokens. However, you requested " +
                std::to_string(n + size_t(*max_tokens)) + " tokens (" +
                std::to_string(n) + " in the prompt, " +
                std::to_string(*max_tokens) + " for the completion).",
            "invalid_request_error", "context_length_exceeded",
            chat ? "messages" : "prompt"};
      }
    } else if (n + 1 > ctx) {
      throw ApiError{400,
                     "This model's maximum context length is " +
                         std::to_string(ctx) + " tokens, and the prompt has " +
                         std::to_string(n) + ".",
                     "invalid_request_error", "context_length_exceeded",
                     chat ? "messages" : "prompt"};
    }
    try {
      o.sampling.Validate();
    } catch (const UsageError& e) {
      throw ApiError{400, e.what()};
    }
    return p;
  }

  uint64_t NextSeed() {
    std::lock_guard<std::mutex> lock(rng_mutex_);
    return rng_();
  }

  void Generate(const httplib::Request& req, httplib::Response& res,
                bool chat) {
    Parsed p;
    try {
      p = Parse(req, chat);
    } catch (const ApiError& e) {
      SetError(res, e);
      return;
    }
    auto job = std::make_shared<Job>(live_jobs_);
    BatchRequest r;
    r.tokens = std::move(p.tokens);
    r.options = p.options;
    const size_t prompt_tokens = r.tokens.size();
    r.on_text = [job, stream = p.stream](std::string_view text) {
      if (stream) {
        std::lock_guard<std::mutex> lock(job->mutex);
        job->pieces.emplace_back(text);
        job->cv.notify_all();
      }
      return !job->gone.load();
    };
    r.on_done = [job](const BatchResult& result) {
      std::lock_guard<std::mutex> lock(job->mutex);
      job->result = result;
      job->done = true;
      job->cv.notify_all();
    };
    std::optional<BatchGenerator::Id> id;
    try {
      id = batch_.Submit(std::move(r));
    } catch (const UsageError& e) {
      SetError(res, ApiError{400, e.what()});
      return;
    }
    if (!id) {
      res.set_header("Retry-After", "1");
      if (shutting_down_ || batch_.stopped()) {
        SetError(res, ApiError{503, "The server is shutting down",
                               "server_error", "shutting_down"});
      } else {
        SetError(res, ApiError{503,
                               "The server is busy: every slot is taken and "
                               "the queue is full; retry later",
                               "server_error", "server_overloaded"});
      }
      return;
    }
    job->id = *id;
    Meta meta{chat ? "chatcmpl-" : "cmpl-", std::time(nullptr), prompt_tokens,
              chat, p.include_usage};
    meta.id += std::to_string(*id) + "-" + std::to_string(created_);
    // Cancels the generation when the response goes away unfinished (the
    // client disconnected before or while it was written).
    auto release = [this, job](bool) {
      std::lock_guard<std::mutex> lock(job->mutex);
      if (!job->done && !job->gone.exchange(true)) {
        batch_.Cancel(job->id);
        std::lock_guard<std::mutex> m(metrics_mutex_);
        ++disconnects_;
      }
    };
    if (p.stream) {
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      res.set_chunked_content_provider(
          "text/event-stream",
          [this, job, meta](size_t, httplib::DataSink& sink) {
            return Stream(*job, meta, sink);
          },
          release);
      return;
    }
    // Non-streaming: a quick answer is a plain response; a slow one is
    // sent chunked (status 200 from then on), so that a client that goes
    // away while it waits is noticed.
    {
      std::unique_lock<std::mutex> lock(job->mutex);
      job->cv.wait_for(lock, std::chrono::milliseconds(200),
                       [&] { return job->done; });
      if (job->done) {
        const std::optional<ApiError> failed = Failed(job->result);
        if (failed) {
          SetError(res, *failed);
        } else {
          res.set_content(Dump(Answer(job->result, meta)), "application/json");
        }
        return;
      }
    }
    res.set_chunked_content_provider(
        "application/json",
        [this, job, meta](size_t, httplib::DataSink& sink) {
          std::unique_lock<std::mutex> lock(job->mutex);
          while (!job->cv.wait_for(lock, kClientCheck,
                                   [&] { return job->done; })) {
            lock.unlock();
            const bool there = sink.is_writable();
            lock.lock();
            if (!there) return false;  // the releaser cancels
          }
          const std::optional<ApiError> failed = Failed(job->result);
          const std::string body =
              Dump(failed ? ErrorJson(*failed) : Answer(job->result, meta));
          lock.unlock();
          if (!sink.write(body.data(), body.size())) return false;
          sink.done();
          return true;
        },
        release);
  }

  // Per answer: its id, time and kind.
  struct Meta {
    std::string id;
    std::time_t created;
    size_t prompt_tokens;
    bool chat;
    bool include_usage;
  };

  // A generation that did not complete normally: the server stopping, or
  // an error inside a step.
  std::optional<ApiError> Failed(const BatchResult& r) const {
    if (!r.error.empty()) return ApiError{500, r.error, "server_error"};
    if (r.finish == FinishReason::kCancelled) {
      return ApiError{503, "The server is shutting down", "server_error",
                      "shutting_down"};
    }
    return std::nullopt;
  }

  json Usage(const BatchResult& r, const Meta& m) const {
    return {{"prompt_tokens", m.prompt_tokens},
            {"completion_tokens", r.tokens.size()},
            {"total_tokens", m.prompt_tokens + r.tokens.size()},
            {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}}};
  }

  json Answer(const BatchResult& r, const Meta& m) const {
    json choice = {{"index", 0},
                   {"finish_reason", OpenAiFinish(r.finish)},
                   {"logprobs", nullptr}};
    if (m.chat) {
      choice["message"] = {{"role", "assistant"}, {"content", r.text}};
    } else {
      choice["text"] = r.text;
    }
    return {{"id", m.id},
            {"object", m.chat ? "chat.completion" : "text_completion"},
            {"created", m.created},
            {"model", model_name_},
            {"system_fingerprint", SystemFingerprint()},
            {"choices", json::array({choice})},
            {"usage", Usage(r, m)},
            {"timings",
             {{"prompt_ms", r.prompt_seconds * 1e3},
              {"predicted_ms", r.generate_seconds * 1e3}}}};
  }

  std::string SystemFingerprint() const {
    return "ternary-" + std::string(engine_.packing()) + "-" +
           std::string(engine_.act());
  }

  json Chunk(const Meta& m, json delta_or_text,
             std::optional<std::string_view> finish) const {
    json choice = {
        {"index", 0},
        {"finish_reason", finish ? json(std::string(*finish)) : json(nullptr)},
        {"logprobs", nullptr}};
    if (m.chat) {
      choice["delta"] = std::move(delta_or_text);
    } else {
      choice["text"] = std::move(delta_or_text);
    }
    return {{"id", m.id},
            {"object", m.chat ? "chat.completion.chunk" : "text_completion"},
            {"created", m.created},
            {"model", model_name_},
            {"system_fingerprint", SystemFingerprint()},
            {"choices", json::array({choice})}};
  }

  static bool Event(httplib::DataSink& sink, const json& j) {
    const std::string s = "data: " + Dump(j) + "\n\n";
    return sink.write(s.data(), s.size());
  }

  // Writes the SSE stream until the generation ends or the client goes.
  bool Stream(Job& job, const Meta& m, httplib::DataSink& sink) {
    if (m.chat &&
        !Event(sink, Chunk(m, {{"role", "assistant"}, {"content", ""}},
                           std::nullopt))) {
      return false;
    }
    std::unique_lock<std::mutex> lock(job.mutex);
    auto quiet_since = std::chrono::steady_clock::now();
    for (;;) {
      const bool woke = job.cv.wait_for(
          lock, kClientCheck, [&] { return job.done || !job.pieces.empty(); });
      std::deque<std::string> pieces;
      pieces.swap(job.pieces);
      const bool done = job.done;
      lock.unlock();
      bool ok = true;
      for (const std::string& text : pieces) {
        if (!ok) break;
        ok = Event(sink, m.chat ? Chunk(m, {{"content", text}}, std::nullopt)
                                : Chunk(m, text, std::nullopt));
      }
      const auto now = std::chrono::steady_clock::now();
      if (!pieces.empty()) {
        quiet_since = now;
      } else if (!woke) {
        // Nothing to send (a long prompt, a full queue): is the client
        // still there? An SSE comment every few seconds keeps proxies open.
        ok = sink.is_writable();
        if (ok && now - quiet_since > std::chrono::seconds(5)) {
          ok = sink.write(": ping\n\n", 8);
          quiet_since = now;
        }
      }
      if (!ok) return false;  // the releaser cancels
      if (done) break;
      lock.lock();
    }
    const BatchResult& r = job.result;
    if (const std::optional<ApiError> failed = Failed(r)) {
      if (!Event(sink, ErrorJson(*failed))) return false;
    } else {
      json last = m.chat ? Chunk(m, json::object(), OpenAiFinish(r.finish))
                         : Chunk(m, "", OpenAiFinish(r.finish));
      if (!m.include_usage) last["usage"] = Usage(r, m);
      if (!Event(sink, last)) return false;
      if (m.include_usage) {
        json usage = Chunk(m, json::object(), std::nullopt);
        usage["choices"] = json::array();
        usage["usage"] = Usage(r, m);
        if (!Event(sink, usage)) return false;
      }
    }
    static constexpr std::string_view kDone = "data: [DONE]\n\n";
    if (!sink.write(kDone.data(), kDone.size())) return false;
    sink.done();
    return true;
  }

  // Ends the reading side of every connection to `port`: an idle
  // keep-alive connection (or a client still sending its request) sees the
  // end of its input and closes, while answers being written still go out
  // whole. (httplib waits for idle connections up to the keep-alive timeout
  // otherwise, and exposes no list of them: they are found in /proc.)
  static void ShutdownReads(int port) {
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd", ec)) {
      int fd = -1;
      const std::string name = entry.path().filename().string();
      if (std::from_chars(name.data(), name.data() + name.size(), fd).ec !=
          std::errc()) {
        continue;
      }
      struct stat st;
      if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        continue;
      }
      int local = -1;
      if (addr.ss_family == AF_INET) {
        local = ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
      } else if (addr.ss_family == AF_INET6) {
        local = ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
      }
      if (local == port) shutdown(fd, SHUT_RD);
    }
  }

  Engine& engine_;
  BatchGenerator& batch_;
  const ServeOptions& options_;
  int port_ = 0;
  std::string model_name_;
  std::time_t created_;
  httplib::Server http_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<int> live_jobs_{0};  // generation requests not yet answered
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
  mutable std::mutex metrics_mutex_;
  std::map<int, uint64_t> http_status_;
  uint64_t disconnects_ = 0;
};

// SIGINT and SIGTERM go to one thread (blocked everywhere else, so the
// engine's and the HTTP server's threads never see them): the first one
// calls on_signal, a second one quits at once.
class SignalThread {
 public:
  SignalThread() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a closed connection is a failed write
    thread_ = std::thread([this] {
      int count = 0;
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0) continue;
        if (quit_) return;
        if (++count > 1) _exit(1);
        // Held while on_signal runs: OnSignal waits for it to finish.
        std::lock_guard<std::mutex> lock(mutex_);
        if (!on_signal_) _exit(sig == SIGINT ? 130 : 143);  // still loading
        on_signal_();
      }
    });
  }
  ~SignalThread() {
    quit_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }
  // What the first signal does (nothing set: quit at once). Waits for a
  // call in progress to finish.
  void OnSignal(std::function<void()> f) {
    std::lock_guard<std::mutex> lock(mutex_);
    on_signal_ = std::move(f);
  }

 private:
  sigset_t set_;
  std::atomic<bool> quit_{false};
  std::mutex mutex_;
  std::function<void()> on_signal_;
  std::thread thread_;
};

}  // namespace serve

inline int RunServe(Args& args) {
  serve::ServeOptions o;
  o.model = ModelOptions::Parse(args, /*allow_default=*/true);
  // --seed fixes every request's default seed; without it each request
  // draws its own (ParseSampling would draw one for all).
  if (const std::optional<std::string> seed = args.Value({"--seed", "-s"})) {
    Args one(std::vector<std::string>{"--seed", *seed});
    o.seed = ParseSampling(one).seed;
  }
  o.flags = GenerationFlags::Parse(args);
  o.host = args.String({"--host"}, "127.0.0.1");
  o.port = int(args.Int({"--port"}, 8080, 0, 65535));
  o.slots = size_t(args.Int({"-np", "--parallel"}, 4, 1, 256));
  o.max_queue = size_t(args.Int({"--max-queue"}, 64, 0, 1 << 20));
  o.api_key = args.String({"--api-key"}, "");
  o.alias = args.String({"--alias", "-a"}, "");
  o.max_body =
      size_t(args.Int({"--max-body"}, 1 << 20, 1024, int64_t{1} << 32));
  o.http_threads = size_t(args.Int({"--http-threads"}, 128, 2, 4096));
  o.timeout = int(args.Int({"--timeout"}, 10, 1, 3600));
  o.prefill_chunk = size_t(args.Int({"--prefill-chunk"}, 256, 1, 1 << 20));
  args.Finish();
  o.model.Validate();
  if (o.host.empty()) throw UsageError("--host needs an address");

  serve::SignalThread signals;
  std::unique_ptr<Engine> engine = LoadEngine(o.model, o.flags.Extras());
  WarnBeyondTrainedContext("-c", engine->context(), engine->config());
  std::string name = o.alias;
  if (name.empty()) {
    std::filesystem::path p(o.model.path);
    if (!p.has_filename()) p = p.parent_path();
    name = p.filename().string();
  }
  BatchGenerator batch(*engine, BatchOptions{.sequences = o.slots,
                                             .max_queued = o.max_queue,
                                             .prefill_chunk = o.prefill_chunk});
  serve::Server server(*engine, batch, o, name);
  int port = o.port;
  if (port == 0) {
    port = server.http().bind_to_any_port(o.host);
    if (port <= 0) throw Error("cannot listen on " + o.host + " (any port)");
  } else if (!server.http().bind_to_port(o.host, port)) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(port) +
                " (in use, or not an address of this machine)");
  }
  server.set_port(port);
  std::thread worker([&] { batch.Run(); });
  signals.OnSignal([&] { server.Shutdown(); });
  if (!LogDisabled()) {
    std::fprintf(stderr,
                 "ternary serve: %s (%.*s/%.*s, %zu threads), %zu slots, "
                 "context %zu; listening on http://%s:%d\n",
                 name.c_str(), int(engine->packing().size()),
                 engine->packing().data(), int(engine->act().size()),
                 engine->act().data(), engine->threads(), o.slots,
                 engine->context(), o.host.c_str(), port);
    std::fflush(stderr);
  }
  const bool ok = server.http().listen_after_bind();
  signals.OnSignal({});  // after a Shutdown in progress
  batch.Stop();
  worker.join();
  if (!LogDisabled()) std::fprintf(stderr, "ternary serve: stopped\n");
  return ok || server.shutting_down() ? 0 : 1;
}

#else  // no cpp-httplib

inline int RunServe(Args&) {
  throw UsageError(
      "this ternary was built without cpp-httplib (libcpp-httplib-dev), so "
      "it cannot serve");
}

#endif  // TERNARY_HAVE_HTTPLIB

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_SERVE_H_
