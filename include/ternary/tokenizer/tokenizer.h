// Llama 3 byte-level BPE tokenizer: loading, Encode, Decode (docs/model.md §6).
// The Tokenizer class (tokenizer_core.h) and every loader: a Hugging Face
// tokenizer.json, a tiktoken ranks file, a GGUF vocabulary, a SentencePiece
// tokenizer.model.
#ifndef TERNARY_TOKENIZER_TOKENIZER_H_
#define TERNARY_TOKENIZER_TOKENIZER_H_

#include "ternary/tokenizer/load_gguf_vocab.h"
#include "ternary/tokenizer/load_hf_json.h"
#include "ternary/tokenizer/load_sentencepiece.h"
#include "ternary/tokenizer/load_tiktoken.h"
#include "ternary/tokenizer/tokenizer_core.h"

#endif  // TERNARY_TOKENIZER_TOKENIZER_H_
