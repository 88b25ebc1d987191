// peer_logits.cpp - evaluate token-id prompts with a peer's llama.h (bitnet.cpp
// fork / ik_llama.cpp) and print, per prompt, the last-position logits, the
// argmax at every position and N greedy ids, as one JSON object per line. No
// sampling, no tokenizer: ids in, raw logits out.
//
// usage: peer_logits MODEL.gguf PROMPTS.txt N_GREEDY [N_THREADS]
//   PROMPTS.txt: one prompt per line, whitespace-separated token ids (BOS
//   included if wanted).
// env PEER_ALL_LOGITS=1: also print "logits", the logits of every prompt
// position.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llama.h"

// ik_llama.cpp renamed the model/context constructors: compile with -DPEER_IK
#ifdef PEER_IK
#define llama_load_model_from_file llama_model_load_from_file
#define llama_new_context_with_model llama_init_from_model
#endif

static int argmax(const float* v, int n) {
  int b = 0;
  for (int i = 1; i < n; ++i)
    if (v[i] > v[b]) b = i;
  return b;
}

static bool decode(llama_context* ctx, const std::vector<llama_token>& toks,
                   int pos0, bool all_logits) {
  llama_batch batch = llama_batch_init((int32_t)toks.size(), 0, 1);
  batch.n_tokens = (int32_t)toks.size();
  for (size_t i = 0; i < toks.size(); ++i) {
    batch.token[i] = toks[i];
    batch.pos[i] = pos0 + (llama_pos)i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = all_logits || i + 1 == toks.size();
  }
  int rc = llama_decode(ctx, batch);
  llama_batch_free(batch);
  return rc == 0;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL PROMPTS N_GREEDY [N_THREADS]\n", argv[0]);
    return 1;
  }
  const char* model_path = argv[1];
  const int n_greedy = atoi(argv[3]);
  const int n_threads = argc > 4 ? atoi(argv[4]) : 1;

  std::vector<std::vector<llama_token>> prompts;
  {
    std::ifstream f(argv[2]);
    std::string line;
    while (std::getline(f, line)) {
      std::istringstream ss(line);
      std::vector<llama_token> p;
      long t;
      while (ss >> t) p.push_back((llama_token)t);
      if (!p.empty()) prompts.push_back(p);
    }
  }

  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_load_model_from_file(model_path, mp);
  if (!model) {
    fprintf(stderr, "failed to load %s\n", model_path);
    return 2;
  }
  const int n_vocab = llama_n_vocab(model);

  for (size_t ip = 0; ip < prompts.size(); ++ip) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 256;
    cp.n_batch = 256;
    cp.n_ubatch = 256;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    llama_context* ctx = llama_new_context_with_model(model, cp);
    if (!ctx) {
      fprintf(stderr, "ctx failed\n");
      return 3;
    }

    const auto& p = prompts[ip];
    if (!decode(ctx, p, 0, true)) {
      fprintf(stderr, "decode failed\n");
      return 4;
    }
    std::vector<int> am;
    for (size_t i = 0; i < p.size(); ++i)
      am.push_back(argmax(llama_get_logits_ith(ctx, (int32_t)i), n_vocab));
    std::vector<std::vector<float>> allv;
    const char* all_env = getenv("PEER_ALL_LOGITS");
    if (all_env && *all_env && *all_env != '0')
      for (size_t i = 0; i < p.size(); ++i)
        allv.emplace_back(llama_get_logits_ith(ctx, (int32_t)i),
                          llama_get_logits_ith(ctx, (int32_t)i) + n_vocab);
    std::vector<float> last(
        llama_get_logits_ith(ctx, (int32_t)p.size() - 1),
        llama_get_logits_ith(ctx, (int32_t)p.size() - 1) + n_vocab);
    std::vector<int> greedy;
    int pos = (int)p.size();
    int next = argmax(last.data(), n_vocab);
    for (int g = 0; g < n_greedy; ++g) {
      greedy.push_back(next);
      if (g + 1 == n_greedy) break;
      if (!decode(ctx, {(llama_token)next}, pos++, false)) {
        fprintf(stderr, "decode failed\n");
        return 5;
      }
      next = argmax(llama_get_logits_ith(ctx, -1), n_vocab);
    }
    printf("{\"ids\":[");
    for (size_t i = 0; i < p.size(); ++i) printf("%s%d", i ? "," : "", p[i]);
    printf("],\"argmax\":[");
    for (size_t i = 0; i < am.size(); ++i) printf("%s%d", i ? "," : "", am[i]);
    printf("],\"greedy_ids\":[");
    for (size_t i = 0; i < greedy.size(); ++i)
      printf("%s%d", i ? "," : "", greedy[i]);
    printf("],\"last_logits\":[");
    for (int i = 0; i < n_vocab; ++i) printf("%s%.9g", i ? "," : "", last[i]);
    printf("]");
    if (!allv.empty()) {
      printf(",\"logits\":[");
      for (size_t r = 0; r < allv.size(); ++r) {
        printf("%s[", r ? "," : "");
        for (int i = 0; i < n_vocab; ++i)
          printf("%s%.9g", i ? "," : "", allv[r][i]);
        printf("]");
      }
      printf("]");
    }
    printf("}\n");
    fflush(stdout);
    llama_free(ctx);
  }
  llama_free_model(model);
  llama_backend_free();
  return 0;
}
