// Load-time fusion: an LceBconv2d with float output whose only reader is a residual ADD, and an
// LceQuantize of that ADD's sum, run in the convolution's epilogue (QuickNet-style residual
// blocks), so the ADD and the LceQuantize no longer make passes over memory of their own. The
// fused epilogue performs the same float operations as the separate ops, in the same order, so
// outputs are bit-identical (kernels/binary/optimized/variants.h, BConvFused).
// Also an LceQuantize of a float CONV_2D's output, packed by the convolution's tasks right after
// they computed the rows (still in cache, on the core that wrote them), and a max pooling of it
// (PoolFusion); the float output stays.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "ops/op_kernel.h"

namespace xbnn::runtime {

struct BconvFusion {
  int bconv = -1;         // op index of the LceBconv2d
  int add = -1;           // the residual ADD reading its output
  int quantize = -1;      // an LceQuantize of the ADD's output, or -1
  int32_t conv_out = -1;  // the LceBconv2d's float output: never materialized
  int32_t residual = -1;  // the ADD's other input
  bool residual_first = false;
  int32_t sum = -1;        // the ADD's output
  bool sum_read = true;    // read by an op other than the fused LceQuantize, or a model output
  int32_t packed = -1;     // the LceQuantize's output, or -1
  float min = 0, max = 0;  // the ADD's activation range
};

// An LceQuantize of a float CONV_2D's output (which other ops may read too).
struct QuantizeFusion {
  int conv = -1;
  int quantize = -1;
  int32_t packed = -1;  // the LceQuantize's output
};

// A float MAX_POOL_2D that is the only reader of a float CONV_2D's output: the convolution pools
// each band of rows it computed while the rows are in cache (the output is still written). After
// the pooling, a chain of float ADD/SUB/MUL/PRELU ops with a constant per-channel (or scalar)
// operand, each the only reader of the one before (BinaryResNetE18's batch norm after its stem),
// and an LceQuantize of the last output run on each pooled row too, with the same float
// operations. Such ops between the convolution and the pooling (RealToBinaryNet's PReLU after its
// stem) run in place on the convolution's rows before they are pooled; their outputs get no
// memory.
struct PoolFusion {
  int conv = -1;
  int pool = -1;
  std::vector<int> before;      // the elementwise ops before the pooling, in order
  std::vector<int32_t> elided;  // their outputs
  std::vector<int> after;  // the elementwise ops, in order
  int quantize = -1;
  int32_t packed = -1;  // the LceQuantize's output, or -1
};

// A float MAX_POOL_2D whose only reader is a float DEPTHWISE_CONV_2D (as its input): the
// convolution pools the rows each band of its output reads into scratch rows of its thread, from
// the pooling's input, and convolves them while they are in cache; the pooled tensor gets no
// memory (QuickNet's transition blocks: a 2x2 max pooling, then a 3x3 stride-2 depthwise
// convolution).
struct DepthwisePoolFusion {
  int pool = -1;
  int depthwise = -1;
  int32_t pooled = -1;  // the pooling's output
};

// A chain of float elementwise ops (ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, PRELU), each after the
// first the only reader of the output before it, whose other operands have the output's shape,
// one value per channel or one value in all, and exist when the first op runs; optionally an
// LceQuantize of the last output. The first op's kernel runs them all on blocks of rows that stay
// in cache (the same float operations in the same order as the separate ops); the intermediate
// outputs get no memory. Batch norms (MUL then ADD of constants) before a binarization, and
// RealToBinaryNet's gate, PReLU, residual and batch norm after each binary convolution.
struct ChainFusion {
  int first = -1;
  bool in_bconv = false;        // runs in an LceBconv2d's epilogue (BconvChainFusion)
  std::vector<int> after;       // the other ops, in order
  int quantize = -1;            // an LceQuantize of the last output, or -1
  int32_t packed = -1;          // its output
  std::vector<int32_t> elided;  // the outputs of all ops but the last
};

// A float PAD of the last axis only, with +0.0, whose only reader is a float ADD of its output
// and a tensor of that shape: the ADD reads the PAD's input in place (adding +0.0 where the PAD
// would have padded, as the separate ops do) and the padded tensor gets no memory. MeliusNet's
// improvement blocks add a binary convolution's 64 channels into a wider tensor this way.
struct PadAddFusion {
  int pad = -1;
  int add = -1;
  int32_t padded = -1;  // the PAD's output
};

// A float CONCATENATION along the last axis, without activation, whose readers are all float
// elementwise ops (ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM) that run on their own or first in a chain
// and read it against a row operand (or a fused PAD), or CONCATENATIONs of this kind: it is never
// written. Each elementwise reader reads its parts in place, side by side (through the
// concatenations it reads). BinaryDenseNet's dense blocks, x_k = concat(x_k-1, conv_k) read by a
// batch norm and by the next concatenation, and MeliusNet's, whose improvement blocks add a padded
// convolution to it, then copy no features.
struct ConcatFusion {
  int concat = -1;
  int32_t out = -1;            // the concatenation: no memory
  std::vector<int32_t> parts;  // the tensors laid side by side, in order
  std::vector<int> readers;    // the elementwise readers
  int end = -1;                // the last elementwise reader (those of concatenations of it
                               // read the parts through their own)
};

// A float SPLIT of the last axis of a rank-4 tensor whose parts are each read by one CONV_2D
// only, the g-th part by the g-th convolution, whose outputs only a CONCATENATION of the last
// axis reads, in the same order: a grouped convolution as converters write it (MeliusNet's stem,
// 4 and 8 groups of 8 channels). The first convolution's kernel runs every group on each band of
// output rows, reading the split's input in place and writing the concatenation's output; the
// parts and the convolutions' outputs get no memory. Only convolutions that run on the 8-channel
// direct kernels in every float precision (DirectConvF32::RunsEightChannelRows), all of one
// geometry. The host is then a CONV_2D whose output is the concatenation (for the fusions after
// it: a pooling, an LceQuantize).
struct GroupConvFusion {
  int split = -1;
  std::vector<int> convs;  // per part, in order; the first one hosts the others
  int concat = -1;
  int32_t in = -1;              // the split's input
  int32_t out = -1;             // the concatenation's output
  std::vector<int32_t> elided;  // the parts and the convolutions' outputs
  int host() const { return *std::min_element(convs.begin(), convs.end()); }
};

// Elementwise chains (ChainFusion) of ADD, SUB, MUL or DIV ops with constant operands of one value
// or one per channel, ending in a fused LceQuantize that is the only reader of the last value,
// whose input is a tensor or a concatenation read in place (ConcatFusion) with parts starting on
// packed words: BinaryDenseNet's batch norms before each binary convolution, whose inputs are all
// earlier blocks' features. Such a chain writes no floats (its last output gets no memory): its
// bits are computed part by part, each part by the first such chain that reads it, for itself and
// for every later one, while the part is new (in cache); no chain rereads the older blocks'
// features. The LceQuantize outputs then live from the first chain that writes part of them.
struct ChainBitsPart {
  int32_t part = -1;   // a part of the chain's input
  int64_t offset = 0;  // its first channel there
  int chain = -1;      // the chain (index into FusionPlan::chains)
};
struct ChainBits {
  int host = -1;  // the first op of the chain that computes these bits
  std::vector<ChainBitsPart> jobs;
};

// A float MAX_POOL_2D that is the only reader of an elementwise chain's last value (a chain
// without LceQuantize), with windows that do not overlap along the height: the chain's first op
// computes the value of each pooling row's input rows into scratch rows and pools them
// (BinaryDenseNet's batch norm before each transition's pooling); the value gets no memory.
struct ChainPoolFusion {
  int chain = -1;  // index into FusionPlan::chains
  int pool = -1;
  int32_t value = -1;  // the chain's last value, the pool's input
};

// An LceBconv2d with float output whose only reader is the first op of an elementwise chain
// (ChainFusion), and the chains after it, each chain's first op reading the last value of the one
// before (only the last may end in an LceQuantize): all their ops run in the convolution's
// epilogue, in registers, the same float operations in the same order (RealToBinaryNet's gate,
// PReLU and residual ADD after each binary convolution, then the batch norm and binarization of
// the sum). Chain values that other ops read are written, the others and the convolution's output
// get no memory. The convolution runs where the first chain's first op would (run_at), when the
// chains' operands exist (RealToBinaryNet's gate is computed after the convolution).
struct BconvChainFusion {
  int bconv = -1;
  std::vector<int> chains;      // indices into FusionPlan::chains, in order
  std::vector<int32_t> elided;  // the convolution's output and the chain values nothing else reads
  // (operand, value): a full-shape operand and a value written at or after the step that reads
  // it, which may take the operand's memory where nothing reads the operand later
  // (PlanInPlaceSums).
  std::vector<std::pair<int32_t, int32_t>> in_place;
};

struct FusionPlan {
  std::vector<BconvFusion> fusions;
  std::vector<GroupConvFusion> groups;
  std::vector<QuantizeFusion> quantizes;
  std::vector<PoolFusion> pools;
  std::vector<DepthwisePoolFusion> depthwise_pools;
  std::vector<ChainFusion> chains;
  std::vector<PadAddFusion> pad_adds;
  std::vector<ConcatFusion> concats;  // in op order
  std::vector<int> bits_chains;       // the chains computed by ChainBits jobs (indices into chains)
  std::vector<ChainBits> chain_bits;  // per chain host with jobs
  std::vector<ChainPoolFusion> chain_pools;
  std::vector<BconvChainFusion> bconv_chains;
  std::vector<int> host;  // per op: the op whose kernel runs it, or -1 for itself
  // Per op: the step at which it runs (its index, or later for an LceBconv2d in bconv_chains).
  std::vector<int> run_at;
};

// Op i's step (FusionPlan::run_at; its own index where the plan has none).
inline int RunStep(const FusionPlan& plan, int i) {
  return plan.run_at.empty() ? i : plan.run_at[static_cast<size_t>(i)];
}

// The indices of ops [0, n) in the order they run (by RunStep, ties in index order).
std::vector<size_t> RunOrder(const FusionPlan& plan, size_t n);

// The epilogue steps of each BconvChainFusion, in plan order (OpContext::fused of its LceBconv2d).
std::vector<FusedResidualAdd> EpilogueChains(const graph::Graph& g, const graph::Subgraph& sg,
                                             const FusionPlan& plan,
                                             std::vector<RuntimeTensor>& tensors,
                                             const std::vector<bool>& elided);

// Finds the fusable patterns among the ops not marked in `skip` (folded at load time).
FusionPlan PlanFusions(const graph::Graph& g, const graph::Subgraph& sg,
                       const std::vector<RuntimeTensor>& tensors, const std::vector<bool>& skip);

// Per tensor of `sg` (n of them): whether the plan leaves it without memory (nothing reads it
// once its readers run inside their producer).
std::vector<bool> ElidedTensors(const FusionPlan& plan, const graph::Subgraph& sg, size_t n);

// Lifetimes (per tensor, the first and last op step that uses it) that fusion extends: the parts
// of a concatenation read in place live until its last reader, and a chain's LceQuantize output
// from the first chain that computes part of it (ChainBits).
void ExtendFusedLifetimes(const FusionPlan& plan, std::vector<int>& first, std::vector<int>& last);

// A fused residual ADD whose residual nothing reads after it writes its sum over the residual:
// each element is read and then written by the same task of the convolution's epilogue, which so
// touches half the memory. Returns per tensor the tensor whose memory it shares (-1: its own;
// never one that shares in turn) and extends that tensor's lifetime in `last` (per tensor, the
// last op step that uses it; -2: no memory).
std::vector<int32_t> PlanInPlaceSums(const FusionPlan& plan,
                                     const std::vector<RuntimeTensor>& tensors,
                                     std::vector<int>& last);

// Points the host ops' contexts at what the CONV_2D, elementwise chain, PAD and CONCATENATION
// fusions fused into them (the LceBconv2d fusions go through OpContext::fused, which the
// interpreter fills).
void AttachConvFusions(const FusionPlan& plan, std::vector<OpContext>& contexts,
                       std::vector<RuntimeTensor>& tensors);

}  // namespace xbnn::runtime
