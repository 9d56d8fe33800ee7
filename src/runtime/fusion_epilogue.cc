// Elementwise chains in an LceBconv2d's epilogue (BconvChainFusion): finding them, and the steps
// the convolution's kernel runs.
#include <algorithm>

#include "kernels/builtin/common.h"
#include "runtime/fusion_rules.h"

namespace xbnn::runtime {
namespace {

// A chain's ops in order: its first op, then the others.
std::vector<int> OpsOf(const ChainFusion& c) {
  std::vector<int> ops{c.first};
  ops.insert(ops.end(), c.after.begin(), c.after.end());
  return ops;
}

}  // namespace

void PlanBconvChains(const graph::Graph& g, const graph::Subgraph& sg,
                     const std::vector<RuntimeTensor>& tensors,
                     const std::vector<std::vector<int>>& readers, const std::vector<int>& producer,
                     FusionPlan& plan) {
  const int n_ops = static_cast<int>(sg.operators.size());
  auto is_output = [&](int32_t t) {
    return std::find(sg.outputs.begin(), sg.outputs.end(), t) != sg.outputs.end();
  };
  // Chains that another fusion reads into (pads, concatenations, chain bits, pools) stay apart.
  std::vector<bool> taken(plan.chains.size(), false);
  std::vector<int> chain_at(static_cast<size_t>(n_ops), -1);  // per first op: its chain
  for (size_t ci = 0; ci < plan.chains.size(); ++ci) {
    chain_at[static_cast<size_t>(plan.chains[ci].first)] = static_cast<int>(ci);
  }
  for (int ci : plan.bits_chains) taken[static_cast<size_t>(ci)] = true;
  for (const ChainPoolFusion& f : plan.chain_pools) taken[static_cast<size_t>(f.chain)] = true;
  auto reads_fused = [&](int op) {
    for (const PadAddFusion& p : plan.pad_adds) {
      if (p.add == op) return true;
    }
    for (const ConcatFusion& c : plan.concats) {
      if (std::find(c.readers.begin(), c.readers.end(), op) != c.readers.end()) return true;
    }
    return false;
  };
  auto last_value = [&](const ChainFusion& f) {
    return sg.operators[f.after.empty() ? f.first : f.after.back()].outputs[0];
  };
  // The chain whose first op reads `v` as its chain value, where its ops' operands exist at step
  // `at`; -1 if none.
  auto chain_on = [&](int32_t v, int at) {
    for (int k : readers[static_cast<size_t>(v)]) {
      const int ci = chain_at[static_cast<size_t>(k)];
      if (ci < 0 || taken[static_cast<size_t>(ci)] || k <= producer[static_cast<size_t>(v)] ||
          reads_fused(k))
        continue;
      const ChainFusion& f = plan.chains[static_cast<size_t>(ci)];
      int32_t x = v;
      bool ok = true;
      for (int o : OpsOf(f)) {
        const graph::Operator& op = sg.operators[static_cast<size_t>(o)];
        if ((op.inputs[0] == x) == (op.inputs[1] == x)) {
          ok = false;
          break;
        }
        const int32_t kk = op.inputs[0] == x ? op.inputs[1] : op.inputs[0];
        ok = ok && (tensors[kk].constant || producer[static_cast<size_t>(kk)] < at) &&
             tensors[kk].type() == graph::DType::kFloat32;
        x = op.outputs[0];
      }
      if (ok) return ci;
    }
    return -1;
  };
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& conv = sg.operators[static_cast<size_t>(i)];
    if (plan.host[static_cast<size_t>(i)] >= 0 || !g.IsCustom(conv, graph::kLceBconv2d) ||
        conv.outputs.size() != 1 || conv.inputs.size() < 2 || conv.inputs[0] < 0 ||
        conv.inputs[1] < 0)
      continue;
    const int32_t y = conv.outputs[0];
    const RuntimeTensor& in = tensors[static_cast<size_t>(conv.inputs[0])];
    const RuntimeTensor& filter = tensors[static_cast<size_t>(conv.inputs[1])];
    // Float output of an ungrouped convolution (its output channel tiles start on packed words).
    if (y < 0 || !IsFloat(tensors[static_cast<size_t>(y)]) || in.rank() != 4 ||
        filter.rank() != 4 || filter.dim(3) != in.dim(3) || is_output(y) ||
        readers[static_cast<size_t>(y)].size() != 1)
      continue;
    const int first = readers[static_cast<size_t>(y)][0];
    if (first <= i) continue;
    BconvChainFusion f;
    f.bconv = i;
    f.elided.push_back(y);
    for (int ci = chain_on(y, first); ci >= 0;) {
      f.chains.push_back(ci);
      const ChainFusion& c = plan.chains[static_cast<size_t>(ci)];
      const int32_t v = last_value(c);
      if (c.quantize >= 0) break;  // only the last chain's bits are packed
      ci = chain_on(v, first);
      // Its value is written where ops outside the chains read it.
      const auto& r = readers[static_cast<size_t>(v)];
      if (ci >= 0 && r.size() == 1 && r[0] == plan.chains[static_cast<size_t>(ci)].first &&
          !is_output(v))
        f.elided.push_back(v);
    }
    if (f.chains.empty()) continue;
    {
      const ChainFusion& c = plan.chains[static_cast<size_t>(f.chains.back())];
      const int32_t v = last_value(c);
      const auto& r = readers[static_cast<size_t>(v)];
      if (c.quantize >= 0 && r.size() == 1 && r[0] == c.quantize && !is_output(v))
        f.elided.push_back(v);
    }
    {
      // Full-shape operands read so far, each paired with the next value written.
      std::vector<int32_t> pending;
      int32_t x = y;
      for (int ci : f.chains) {
        const ChainFusion& c = plan.chains[static_cast<size_t>(ci)];
        for (int o : OpsOf(c)) {
          const graph::Operator& op = sg.operators[static_cast<size_t>(o)];
          const int32_t k = op.inputs[0] == x ? op.inputs[1] : op.inputs[0];
          if (!tensors[static_cast<size_t>(k)].constant &&
              tensors[static_cast<size_t>(k)].dims == tensors[static_cast<size_t>(x)].dims)
            pending.push_back(k);
          x = op.outputs[0];
          const bool written = std::find(c.elided.begin(), c.elided.end(), x) == c.elided.end() &&
                               std::find(f.elided.begin(), f.elided.end(), x) == f.elided.end();
          if (written && !pending.empty()) {
            f.in_place.emplace_back(pending.front(), x);
            pending.erase(pending.begin());
          }
        }
      }
    }
    if (plan.run_at.empty()) {
      plan.run_at.resize(static_cast<size_t>(n_ops));
      for (int k = 0; k < n_ops; ++k) plan.run_at[static_cast<size_t>(k)] = k;
    }
    plan.run_at[static_cast<size_t>(i)] = first;
    for (int ci : f.chains) {
      ChainFusion& c = plan.chains[static_cast<size_t>(ci)];
      c.in_bconv = true;
      taken[static_cast<size_t>(ci)] = true;
      plan.host[static_cast<size_t>(c.first)] = i;
      for (int k : c.after) plan.host[static_cast<size_t>(k)] = i;
      if (c.quantize >= 0) plan.host[static_cast<size_t>(c.quantize)] = i;
    }
    plan.bconv_chains.push_back(std::move(f));
  }
}

std::vector<size_t> RunOrder(const FusionPlan& plan, size_t n) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return RunStep(plan, static_cast<int>(a)) < RunStep(plan, static_cast<int>(b));
  });
  return order;
}

std::vector<FusedResidualAdd> EpilogueChains(const graph::Graph& g, const graph::Subgraph& sg,
                                             const FusionPlan& plan,
                                             std::vector<RuntimeTensor>& tensors,
                                             const std::vector<bool>& elided) {
  std::vector<FusedResidualAdd> out;
  for (const BconvChainFusion& f : plan.bconv_chains) {
    FusedResidualAdd e;
    int32_t x = sg.operators[static_cast<size_t>(f.bconv)].outputs[0];
    for (int ci : f.chains) {
      const ChainFusion& c = plan.chains[static_cast<size_t>(ci)];
      for (int o : OpsOf(c)) {
        const graph::Operator& op = sg.operators[static_cast<size_t>(o)];
        FusedEpilogueStep st;
        st.k_first = op.inputs[1] == x;
        st.operand = &tensors[static_cast<size_t>(st.k_first ? op.inputs[0] : op.inputs[1])];
        using Op = FusedEpilogueStep::Op;
        switch (g.CodeOf(op).builtin) {
          case graph::op::kAdd:
            st.op = Op::kAdd;
            break;
          case graph::op::kSub:
            st.op = Op::kSub;
            break;
          case graph::op::kMul:
            st.op = Op::kMul;
            break;
          case graph::op::kDiv:
            st.op = Op::kDiv;
            break;
          case graph::op::kMaximum:
            st.op = Op::kMax;
            break;
          case graph::op::kMinimum:
            st.op = Op::kMin;
            break;
          default:
            st.op = Op::kPrelu;
            break;
        }
        const int64_t act = op.builtin_options.GetInt("fused_activation_function", 0);
        kernels::builtin::FloatActivationRange(static_cast<kernels::builtin::Activation>(act),
                                               &st.lo, &st.hi);
        x = op.outputs[0];
        if (!elided[static_cast<size_t>(x)]) st.store = &tensors[static_cast<size_t>(x)];
        e.chain.push_back(st);
      }
      if (c.packed >= 0) e.packed = &tensors[static_cast<size_t>(c.packed)];
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace xbnn::runtime
