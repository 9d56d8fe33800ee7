#include "runtime/fusion.h"

#include <algorithm>
#include <cstring>

#include "kernels/builtin/common.h"
#include "runtime/fusion_rules.h"

namespace xbnn::runtime {

FusionPlan PlanFusions(const graph::Graph& g, const graph::Subgraph& sg,
                       const std::vector<RuntimeTensor>& tensors, const std::vector<bool>& skip) {
  const int n_ops = static_cast<int>(sg.operators.size());
  const size_t n = tensors.size();
  FusionPlan plan;
  plan.host.assign(static_cast<size_t>(n_ops), -1);
  // Readers of every tensor (an op reading a tensor twice counts twice), and its producer.
  std::vector<std::vector<int>> readers(n);
  std::vector<int> producer(n, -1);
  for (int i = 0; i < n_ops; ++i) {
    if (skip[i]) continue;
    for (int32_t t : sg.operators[i].inputs) {
      if (t >= 0 && static_cast<size_t>(t) < n) readers[t].push_back(i);
    }
    for (int32_t t : sg.operators[i].outputs) {
      if (t >= 0 && static_cast<size_t>(t) < n) producer[t] = i;
    }
  }
  auto is_output = [&](int32_t t) {
    return std::find(sg.outputs.begin(), sg.outputs.end(), t) != sg.outputs.end();
  };
  auto only_reader = [&](int32_t t) {
    return readers[t].size() == 1 && !is_output(t) ? readers[t][0] : -1;
  };
  // The same when it comes after op `at`: walks along readers then end even in a malformed
  // graph whose ops read their own outputs (the interpreter rejects it after planning).
  auto reader_after = [&](int32_t t, int at) {
    const int k = only_reader(t);
    return k > at ? k : -1;
  };

  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& conv = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !g.IsCustom(conv, graph::kLceBconv2d)) continue;
    if (conv.outputs.size() != 1 || conv.inputs.size() < 2 || conv.inputs[0] < 0 ||
        conv.inputs[1] < 0)
      continue;
    const int32_t y = conv.outputs[0];
    const RuntimeTensor& in = tensors[conv.inputs[0]];
    const RuntimeTensor& filter = tensors[conv.inputs[1]];
    // Float output of an ungrouped convolution (its output channel tiles start on packed words).
    if (!IsFloat(tensors[y]) || in.rank() != 4 || filter.rank() != 4 || filter.dim(3) != in.dim(3))
      continue;
    const int j = only_reader(y);
    if (j < 0) continue;
    const graph::Operator& add = sg.operators[j];
    if (g.CodeOf(add).builtin != graph::op::kAdd || add.inputs.size() != 2 ||
        add.outputs.size() != 1)
      continue;
    const bool first = add.inputs[1] == y;
    const int32_t r = first ? add.inputs[0] : add.inputs[1];
    const int32_t z = add.outputs[0];
    if (r < 0 || r == y || z < 0 || tensors[z].constant) continue;
    if (!IsFloat(tensors[r]) || !IsFloat(tensors[z])) continue;
    if (tensors[r].dims != tensors[y].dims || tensors[z].dims != tensors[y].dims) continue;
    // The residual must exist when the convolution runs.
    if (producer[r] >= i) continue;
    const int64_t act = add.builtin_options.GetInt("fused_activation_function", 0);
    if (act < 0 || act > 3) continue;  // the ADD's Prepare reports it
    BconvFusion f;
    f.bconv = i;
    f.add = j;
    f.conv_out = y;
    f.residual = r;
    f.residual_first = first;
    f.sum = z;
    kernels::builtin::FloatActivationRange(static_cast<kernels::builtin::Activation>(act), &f.min,
                                           &f.max);
    int other_readers = static_cast<int>(readers[z].size());
    for (int k : readers[z]) {
      const graph::Operator& q = sg.operators[k];
      if (plan.host[k] >= 0 || !g.IsCustom(q, graph::kLceQuantize) || q.inputs.size() != 1 ||
          q.outputs.size() != 1) {
        continue;
      }
      if (!PacksOf(tensors[z], tensors[q.outputs[0]])) continue;
      f.quantize = k;
      f.packed = q.outputs[0];
      --other_readers;
      break;
    }
    f.sum_read = other_readers > 0 || is_output(z);
    plan.host[j] = i;
    if (f.quantize >= 0) plan.host[f.quantize] = i;
    plan.fusions.push_back(f);
  }

  // SPLIT -> CONV_2D per part -> CONCATENATION: one grouped convolution.
  std::vector<int32_t> group_out(static_cast<size_t>(n_ops), -1);  // per host: its output
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& split = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || g.CodeOf(split).builtin != graph::op::kSplit ||
        split.inputs.size() != 2 || split.inputs[0] < 0 || split.inputs[1] < 0 ||
        split.outputs.size() < 2)
      continue;
    const RuntimeTensor& axis = tensors[static_cast<size_t>(split.inputs[0])];
    const int32_t x = split.inputs[1];
    if (!axis.constant || !axis.data || axis.type() != graph::DType::kInt32 || axis.bytes != 4 ||
        !IsFloat(tensors[x]) || tensors[x].dims.size() != 4)
      continue;
    const int32_t a = axis.as<int32_t>()[0];
    if (a != 3 && a != -1) continue;
    GroupConvFusion f;
    f.split = i;
    f.in = x;
    int concat = -1;
    bool ok = true;
    for (int32_t part : split.outputs) {
      const int c = part >= 0 ? reader_after(part, i) : -1;
      if (c < 0 || plan.host[c] >= 0 || !IsGroupConv(g, sg.operators[c], part, tensors) ||
          (!f.convs.empty() && !SameConv(sg.operators[f.convs[0]], sg.operators[c], tensors))) {
        ok = false;
        break;
      }
      const int32_t y = sg.operators[c].outputs[0];
      const int k = reader_after(y, c);
      if (k < 0 || (concat >= 0 && k != concat)) {
        ok = false;
        break;
      }
      concat = k;
      f.convs.push_back(c);
      f.elided.push_back(part);
      f.elided.push_back(y);
    }
    if (!ok || concat < 0 || plan.host[concat] >= 0 ||
        !ConcatenatesLastAxis(g, sg.operators[concat], tensors, 1) ||
        sg.operators[concat].inputs.size() != split.outputs.size())
      continue;
    for (size_t k = 0; k < f.convs.size() && ok; ++k) {
      ok = sg.operators[concat].inputs[k] == sg.operators[f.convs[k]].outputs[0];
    }
    if (!ok || tensors[sg.operators[concat].outputs[0]].dims.size() != 4) continue;
    f.concat = concat;
    f.out = sg.operators[concat].outputs[0];
    const int host = f.host();
    plan.host[i] = host;
    plan.host[concat] = host;
    for (int c : f.convs) {
      if (c != host) plan.host[c] = host;
    }
    group_out[static_cast<size_t>(host)] = f.out;
    plan.groups.push_back(std::move(f));
  }

  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& conv = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || g.CodeOf(conv).builtin != graph::op::kConv2D ||
        conv.outputs.size() != 1 || conv.outputs[0] < 0)
      continue;
    // (A grouped convolution's host writes the concatenation.)
    const int32_t y = group_out[static_cast<size_t>(i)] >= 0 ? group_out[static_cast<size_t>(i)]
                                                             : conv.outputs[0];
    if (!IsFloat(tensors[y]) || tensors[y].rank() != 4) continue;
    // An LceQuantize of `x` among its readers that no fusion took yet, or -1.
    auto quantize_of = [&](int32_t x) {
      for (int k : readers[x]) {
        const graph::Operator& q = sg.operators[k];
        if (plan.host[k] < 0 && g.IsCustom(q, graph::kLceQuantize) && q.inputs.size() == 1 &&
            q.outputs.size() == 1 && q.outputs[0] >= 0 &&
            PacksOf(tensors[x], tensors[q.outputs[0]]))
          return k;
      }
      return -1;
    };
    // Row ops between the convolution and a pooling, each the only reader of the one before.
    std::vector<int> before;
    std::vector<int32_t> elided;
    int32_t pooled_in = y;
    int only = reader_after(y, i);
    while (only >= 0 && plan.host[only] < 0 && IsRowOp(g, sg.operators[only], pooled_in, tensors)) {
      before.push_back(only);
      pooled_in = sg.operators[only].outputs[0];
      elided.push_back(pooled_in);
      only = reader_after(pooled_in, only);
    }
    if (only >= 0 && plan.host[only] < 0 &&
        g.CodeOf(sg.operators[only]).builtin == graph::op::kMaxPool2D) {
      const graph::Operator& pool = sg.operators[only];
      if (pool.inputs.size() == 1 && pool.outputs.size() == 1 && pool.outputs[0] >= 0 &&
          IsFloat(tensors[pool.outputs[0]])) {
        plan.host[only] = i;
        PoolFusion f;
        f.conv = i;
        f.pool = only;
        f.before = before;
        f.elided = elided;
        for (int k : before) plan.host[k] = i;
        int32_t x = pool.outputs[0];
        for (int k = reader_after(x, only);
             k >= 0 && plan.host[k] < 0 && IsRowOp(g, sg.operators[k], x, tensors);
             k = reader_after(x, k)) {
          plan.host[k] = i;
          f.after.push_back(k);
          x = sg.operators[k].outputs[0];
        }
        f.quantize = quantize_of(x);
        if (f.quantize >= 0) {
          plan.host[f.quantize] = i;
          f.packed = sg.operators[f.quantize].outputs[0];
        }
        plan.pools.push_back(f);
        continue;
      }
    }
    const int k = quantize_of(y);
    if (k >= 0) {
      plan.host[k] = i;
      plan.quantizes.push_back({i, k, sg.operators[k].outputs[0]});
    }
  }

  // MAX_POOL_2D -> DEPTHWISE_CONV_2D, float, from poolings no convolution took.
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& pool = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || g.CodeOf(pool).builtin != graph::op::kMaxPool2D ||
        pool.inputs.size() != 1 || pool.outputs.size() != 1 || pool.inputs[0] < 0 ||
        pool.outputs[0] < 0)
      continue;
    const int32_t y = pool.outputs[0];
    if (!IsFloat(tensors[pool.inputs[0]]) || !IsFloat(tensors[y]) || tensors[y].rank() != 4)
      continue;
    const int k = reader_after(y, i);
    if (k < 0 || plan.host[k] >= 0) continue;
    const graph::Operator& dw = sg.operators[k];
    if (g.CodeOf(dw).builtin != graph::op::kDepthwiseConv2D || dw.inputs.size() < 2 ||
        dw.inputs[0] != y || dw.outputs.size() != 1 || dw.outputs[0] < 0 ||
        !IsFloat(tensors[dw.outputs[0]]))
      continue;
    plan.host[i] = k;
    plan.depthwise_pools.push_back({i, k, y});
  }

  // Elementwise chains, from ops no other fusion took. The first op's operands must be row
  // operands too (its kernel splits the output into rows).
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& op = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !IsChainOp(g, op) || op.inputs.size() != 2 ||
        op.outputs.size() != 1 || op.outputs[0] < 0 || op.inputs[0] < 0 || op.inputs[1] < 0)
      continue;
    int32_t x = op.outputs[0];
    const RuntimeTensor& y = tensors[x];
    if (!IsFloat(y) || y.constant || y.dims.empty() ||
        !IsRowOperand(tensors[op.inputs[0]], y.dims) ||
        !IsRowOperand(tensors[op.inputs[1]], y.dims))
      continue;
    const int64_t act = op.builtin_options.GetInt("fused_activation_function", 0);
    if (act < 0 || act > 3) continue;
    ChainFusion f;
    f.first = i;
    // Consecutive ops only: the last output and the LceQuantize's are then written when they
    // would have been, so no lifetime grows and the arena does not either.
    auto next = [&](int32_t t) {
      const int k = only_reader(t);
      return k == i + static_cast<int>(f.after.size()) + 1 ? k : -1;
    };
    for (int k = next(x);
         k >= 0 && plan.host[k] < 0 && ExtendsChain(g, sg.operators[k], x, i, tensors, producer);
         k = next(x)) {
      f.elided.push_back(x);
      f.after.push_back(k);
      x = sg.operators[k].outputs[0];
    }
    for (int k : readers[x]) {
      const graph::Operator& q = sg.operators[k];
      if (k == i + static_cast<int>(f.after.size()) + 1 && plan.host[k] < 0 &&
          g.IsCustom(q, graph::kLceQuantize) && q.inputs.size() == 1 && q.outputs.size() == 1 &&
          q.outputs[0] >= 0 && PacksOf(tensors[x], tensors[q.outputs[0]])) {
        f.quantize = k;
        f.packed = q.outputs[0];
        break;
      }
    }
    if (f.after.empty() && f.quantize < 0) continue;
    for (int k : f.after) plan.host[k] = i;
    if (f.quantize >= 0) plan.host[f.quantize] = i;
    plan.chains.push_back(std::move(f));
  }

  // PAD -> ADD (the ADD on its own or first in a chain).
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& pad = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !PadsLastAxisWithZeros(g, pad, tensors)) continue;
    const int32_t y = pad.outputs[0];
    const int a = only_reader(y);
    if (a < 0 || plan.host[a] >= 0) continue;
    const graph::Operator& add = sg.operators[a];
    if (g.CodeOf(add).builtin != graph::op::kAdd || add.inputs.size() != 2 ||
        add.outputs.size() != 1 || add.outputs[0] < 0)
      continue;
    if ((add.inputs[0] == y) == (add.inputs[1] == y)) continue;
    const int32_t z = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    if (z < 0 || !IsFloat(tensors[z]) || tensors[z].dims != tensors[y].dims ||
        tensors[add.outputs[0]].dims != tensors[y].dims || !IsFloat(tensors[add.outputs[0]]))
      continue;
    const int64_t act = add.builtin_options.GetInt("fused_activation_function", 0);
    if (act < 0 || act > 3) continue;
    plan.host[i] = a;
    plan.pad_adds.push_back({i, a, y});
  }

  // CONCATENATIONs read in place, last first: a concatenation's readers may be later ones.
  std::vector<int> concat_of(static_cast<size_t>(n_ops), -1);  // index into `found`
  std::vector<ConcatFusion> found;
  for (int i = n_ops - 1; i >= 0; --i) {
    const graph::Operator& op = sg.operators[i];
    if (skip[i] || plan.host[i] >= 0 || !ConcatenatesLastAxis(g, op, tensors)) continue;
    const int32_t y = op.outputs[0];
    if (is_output(y) || readers[y].empty()) continue;
    ConcatFusion f;
    f.concat = i;
    f.out = y;
    bool ok = true;
    for (int k : readers[y]) {
      if (concat_of[k] >= 0) continue;  // (its parts include this one's)
      const graph::Operator& r = sg.operators[k];
      // (The other operand no concatenation: a reader reads one in place.)
      const int32_t other = r.inputs.size() == 2 ? r.inputs[r.inputs[0] == y ? 1 : 0] : -1;
      const bool other_concat =
          other >= 0 && producer[other] >= 0 &&
          g.CodeOf(sg.operators[producer[other]]).builtin == graph::op::kConcatenation;
      if (plan.host[k] >= 0 || other_concat || !ReadsInPlace(g, r, y, tensors)) {
        ok = false;
        break;
      }
      f.readers.push_back(k);
      f.end = std::max(f.end, k);
    }
    if (!ok) continue;
    // Run (that is, not run) at its first elementwise reader, or where the concatenation that
    // reads it is.
    int host = f.readers.empty() ? n_ops : *std::min_element(f.readers.begin(), f.readers.end());
    for (int k : readers[y]) {
      if (concat_of[k] >= 0) host = std::min(host, plan.host[k]);
    }
    plan.host[i] = host;
    concat_of[i] = static_cast<int>(found.size());
    found.push_back(std::move(f));
  }
  // Parts in op order, through the concatenations read in place.
  std::reverse(found.begin(), found.end());
  for (size_t j = 0; j < found.size(); ++j) {
    ConcatFusion& f = found[j];
    for (int32_t t : sg.operators[f.concat].inputs) {
      const int p = producer[t];
      if (p >= 0 && concat_of[p] >= 0) {
        const ConcatFusion& inner = found[found.size() - 1 - static_cast<size_t>(concat_of[p])];
        f.parts.insert(f.parts.end(), inner.parts.begin(), inner.parts.end());
      } else {
        f.parts.push_back(t);
      }
    }
  }
  plan.concats = std::move(found);
  PlanChainBits(g, sg, tensors, readers, plan);
  // A chain's value pooled by its first op.
  for (size_t ci = 0; ci < plan.chains.size(); ++ci) {
    const ChainFusion& f = plan.chains[ci];
    const graph::Operator& first = sg.operators[f.first];
    const int32_t code = g.CodeOf(first).builtin;
    if (f.quantize >= 0 || f.after.empty() ||
        (code != graph::op::kAdd && code != graph::op::kSub && code != graph::op::kMul &&
         code != graph::op::kDiv))
      continue;
    const int32_t v = sg.operators[f.after.back()].outputs[0];
    const int k = only_reader(v);
    if (k < 0 || plan.host[k] >= 0 || tensors[v].dims.size() != 4) continue;
    const graph::Operator& pool = sg.operators[k];
    if (g.CodeOf(pool).builtin != graph::op::kMaxPool2D || pool.inputs.size() != 1 ||
        pool.outputs.size() != 1 || pool.outputs[0] < 0 || !IsFloat(tensors[pool.outputs[0]]))
      continue;
    const auto& o = pool.builtin_options;
    if (o.GetInt("stride_h", 1) < o.GetInt("filter_height", 1)) continue;  // rows computed once
    plan.host[k] = f.first;
    plan.chain_pools.push_back({static_cast<int>(ci), k, v});
  }
  PlanBconvChains(g, sg, tensors, readers, producer, plan);
  return plan;
}

std::vector<bool> ElidedTensors(const FusionPlan& plan, const graph::Subgraph& sg, size_t n) {
  std::vector<bool> elided(n, false);
  for (const BconvFusion& f : plan.fusions) {
    elided[f.conv_out] = true;
    if (!f.sum_read) elided[f.sum] = true;
  }
  for (const ChainFusion& f : plan.chains) {
    for (int32_t t : f.elided) elided[t] = true;
  }
  for (const PoolFusion& f : plan.pools) {
    for (int32_t t : f.elided) elided[t] = true;
  }
  for (const GroupConvFusion& f : plan.groups) {
    for (int32_t t : f.elided) elided[t] = true;
  }
  for (const PadAddFusion& f : plan.pad_adds) elided[f.padded] = true;
  for (const DepthwisePoolFusion& f : plan.depthwise_pools) elided[f.pooled] = true;
  for (const ConcatFusion& f : plan.concats) elided[f.out] = true;
  for (const ChainPoolFusion& f : plan.chain_pools) elided[f.value] = true;
  for (const BconvChainFusion& f : plan.bconv_chains) {
    for (int32_t t : f.elided) elided[t] = true;
  }
  // A chain computed by ChainBits jobs writes only its LceQuantize's bits.
  for (int ci : plan.bits_chains) {
    const ChainFusion& f = plan.chains[static_cast<size_t>(ci)];
    elided[sg.operators[f.after.empty() ? f.first : f.after.back()].outputs[0]] = true;
  }
  return elided;
}

void ExtendFusedLifetimes(const FusionPlan& plan, std::vector<int>& first, std::vector<int>& last) {
  for (const ConcatFusion& f : plan.concats) {
    for (int32_t t : f.parts) last[t] = std::max(last[t], f.end);
  }
  for (const ChainBits& b : plan.chain_bits) {
    for (const ChainBitsPart& j : b.jobs) {
      const int32_t packed = plan.chains[static_cast<size_t>(j.chain)].packed;
      first[packed] = std::min(first[packed], b.host);
    }
  }
}

std::vector<int32_t> PlanInPlaceSums(const FusionPlan& plan,
                                     const std::vector<RuntimeTensor>& tensors,
                                     std::vector<int>& last) {
  std::vector<int32_t> home(tensors.size(), -1);
  // In op order, so that a chain of blocks (each sum the next block's residual) shares one buffer.
  for (const BconvFusion& f : plan.fusions) {
    const auto r = static_cast<size_t>(f.residual);
    const auto z = static_cast<size_t>(f.sum);
    if (!f.sum_read || tensors[r].constant || last[r] != f.bconv ||
        tensors[r].bytes != tensors[z].bytes) {
      continue;
    }
    const size_t root = home[r] >= 0 ? static_cast<size_t>(home[r]) : r;
    home[z] = static_cast<int32_t>(root);
    last[root] = std::max(last[root], last[z]);
  }
  // The same for values in an LceBconv2d's epilogue chain: each element of the operand is read
  // before the value is written at that element (same task, same or later step).
  for (const BconvChainFusion& f : plan.bconv_chains) {
    const int at = RunStep(plan, f.bconv);
    for (const auto& [r32, z32] : f.in_place) {
      const auto r = static_cast<size_t>(r32);
      const auto z = static_cast<size_t>(z32);
      if (tensors[r].constant || last[r] != at || tensors[r].bytes != tensors[z].bytes ||
          home[z] >= 0 || last[z] < 0)
        continue;
      const size_t root = home[r] >= 0 ? static_cast<size_t>(home[r]) : r;
      home[z] = static_cast<int32_t>(root);
      last[root] = std::max(last[root], last[z]);
    }
  }
  return home;
}

void AttachConvFusions(const FusionPlan& plan, std::vector<OpContext>& contexts,
                       std::vector<RuntimeTensor>& tensors) {
  for (const GroupConvFusion& f : plan.groups) {
    OpContext& c = contexts[f.host()];
    for (int k : f.convs) c.fused_group.push_back(&contexts[k]);
    c.fused_split = &contexts[f.split];
    c.fused_group_concat = &contexts[f.concat];
  }
  for (const QuantizeFusion& q : plan.quantizes) contexts[q.conv].fused_packed = &tensors[q.packed];
  for (const PoolFusion& f : plan.pools) {
    OpContext& c = contexts[f.conv];
    c.fused_pool = &contexts[f.pool];
    for (int k : f.before) c.fused_before_pool.push_back(&contexts[k]);
    for (int k : f.after) c.fused_after_pool.push_back(&contexts[k]);
    if (f.packed >= 0) c.fused_packed = &tensors[f.packed];
  }
  for (const ChainFusion& f : plan.chains) {
    if (f.in_bconv) continue;  // (EpilogueChains)
    OpContext& c = contexts[f.first];
    for (int k : f.after) c.fused_chain.push_back(&contexts[k]);
    if (f.packed >= 0) c.fused_packed = &tensors[f.packed];
  }
  for (int ci : plan.bits_chains) contexts[plan.chains[ci].first].chain_bits_only = true;
  for (const ChainPoolFusion& f : plan.chain_pools) {
    contexts[plan.chains[static_cast<size_t>(f.chain)].first].fused_pool = &contexts[f.pool];
  }
  for (const ChainBits& b : plan.chain_bits) {
    for (const ChainBitsPart& j : b.jobs) {
      contexts[b.host].fused_chain_bits.push_back(
          {&tensors[j.part], j.offset, &contexts[plan.chains[j.chain].first]});
    }
  }
  for (const PadAddFusion& f : plan.pad_adds) contexts[f.add].fused_pad = &contexts[f.pad];
  for (const DepthwisePoolFusion& f : plan.depthwise_pools) {
    contexts[f.depthwise].fused_input_pool = &contexts[f.pool];
  }
  for (const ConcatFusion& f : plan.concats) {
    for (int k : f.readers) {
      OpContext& c = contexts[k];
      c.fused_concat = &tensors[f.out];
      c.fused_concat_parts.clear();
      for (int32_t t : f.parts) c.fused_concat_parts.push_back(&tensors[t]);
    }
  }
}

}  // namespace xbnn::runtime
