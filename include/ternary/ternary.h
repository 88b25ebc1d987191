// The whole public API of ternary in one include.
#ifndef TERNARY_TERNARY_H_
#define TERNARY_TERNARY_H_

#include "ternary/kernels/dense.h"
#include "ternary/kernels/matmul.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/convert.h"
#include "ternary/model/generate.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/model/model.h"
#include "ternary/model/random_weights.h"
#include "ternary/model/sampling.h"
#include "ternary/quant/activation.h"
#include "ternary/quant/i2s.h"
#include "ternary/quant/ternarize.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "ternary/runtime/engine.h"
#include "ternary/tokenizer/chat_template.h"
#include "ternary/tokenizer/stream_decoder.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"
#include "ternary/version.h"

#endif  // TERNARY_TERNARY_H_
