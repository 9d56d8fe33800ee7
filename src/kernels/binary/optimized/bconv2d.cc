#include "kernels/binary/optimized/bconv2d.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace xbnn::kernels::optimized {

namespace {

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

// LCE's border correction sums the outside taps' filter sums in float; that equals the exact
// integer sum (which the kernels use) while every partial sum is below 2^24.
constexpr int64_t kExactFloatSum = int64_t{1} << 24;

// Filters larger than this split over threads by output-channel tiles whatever the map size
// (BConv2DKernel::Run): about half of the smaller L2s (256 KB-1 MB per core), so that a filter the
// pixel split would re-read from L3 in every task is read once. Two threads on a 2-vCPU Zen 3:
// 7x7x512 3x3 layers (590 KB of nibble planes) 1.99x faster than one instead of 1.78-1.82x (best
// calls), 1.83-1.90x in QuickNet instead of 1.50-1.61x (xbnn bench --threads 1,2 --profile).
constexpr int64_t kTileSplitFilterBytes = int64_t{256} << 10;

// Words after the pixel-lane copy of the input (BConvPlan::lane_pitch): a 16-pixel block that
// starts at the last output pixel loads 15 words past the last padded image's last word.
constexpr int64_t kLaneSlackWords = 16;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A word's nibble planes (BConvVariant::nibble_planes): w & 0x0F0F0F0F and (w >> 4) & 0x0F0F0F0F.
void SplitNibbles(int32_t w, int32_t* lo, int32_t* hi) {
  const auto u = static_cast<uint32_t>(w);
  *lo = static_cast<int32_t>(u & 0x0F0F0F0Fu);
  *hi = static_cast<int32_t>((u >> 4) & 0x0F0F0F0Fu);
}

// Valid kernel positions [lo, hi) along one axis for output coordinate `o`.
void InBoundsRange(int o, int stride, int pad, int dilation, int kernel, int in, int32_t* lo,
                   int32_t* hi) {
  int first = -1, last = -1;
  for (int k = 0; k < kernel; ++k) {
    const int i = o * stride - pad + k * dilation;
    if (i >= 0 && i < in) {
      if (first < 0) first = k;
      last = k;
    }
  }
  // The in-bounds positions are contiguous: the input coordinate is monotonic in k.
  *lo = first < 0 ? 0 : first;
  *hi = first < 0 ? 0 : last + 1;
}

// The run [*b, *e) of outputs whose range (`range`: [n][2], from InBoundsRange) is the whole
// kernel, [0, 0) when there is none. Such outputs are contiguous (the window's first and last
// input coordinates grow with the output's), and every output of the run is one of them.
void InnerRange(const int32_t* range, int n, int kernel, int* b, int* e) {
  *b = *e = 0;
  int o = 0;
  while (o < n && !(range[2 * o] == 0 && range[2 * o + 1] == kernel)) ++o;
  int end = o;
  while (end < n && range[2 * end] == 0 && range[2 * end + 1] == kernel) ++end;
  if (end > o) {
    *b = o;
    *e = end;
  }
}

// The distinct in-bounds ranges of a zero-padded layer's output rows (or columns), the whole
// kernel first (class 0: no taps in the padding), and each output's class.
struct BorderClasses {
  std::vector<std::pair<int32_t, int32_t>> ranges;  // [classes]: in-bounds taps [lo, hi)
  std::vector<int> of;                              // [outputs]
};
BorderClasses ClassifyRanges(const std::vector<int32_t>& range, int kernel) {
  BorderClasses b;
  b.ranges = {{0, kernel}};
  for (size_t o = 0; o < range.size() / 2; ++o) {
    const std::pair<int32_t, int32_t> r{range[2 * o], range[2 * o + 1]};
    const auto it = std::find(b.ranges.begin(), b.ranges.end(), r);
    b.of.push_back(static_cast<int>(it - b.ranges.begin()));
    if (it == b.ranges.end()) b.ranges.push_back(r);
  }
  return b;
}

}  // namespace

Result<std::unique_ptr<BConv2DKernel>> BConv2DKernel::Create(
    const BConv2DParams& p, const int32_t* filter, const float* multiplier, const float* bias,
    const int32_t* thresholds, Isa isa, bool amx_every_layer) {
  Result<BConv2DGeometry> geometry = ComputeBConv2DGeometry(p);
  if (!geometry.ok()) return geometry.status();
  const BConv2DGeometry& g = *geometry;
  if (filter == nullptr) return Status::Error("bconv2d: filter is null");
  if (p.output_type == BOutputType::kBitpacked) {
    if (thresholds == nullptr) return Status::Error("bconv2d: bitpacked output needs thresholds");
  } else {
    if (multiplier == nullptr || bias == nullptr) {
      return Status::Error("bconv2d: float/int8 output needs post_activation_multiplier and "
                           "post_activation_bias");
    }
  }
  Result<Isa> resolved = ResolveIsa(isa);
  if (!resolved.ok()) return resolved.status().Prefixed("bconv2d: ");
  const BConvVariant* variant = BConvVariantFor(*resolved);
  if (variant == nullptr) {
    return Status::Error(std::string("bconv2d: no ") + IsaName(*resolved) + " variant");
  }

  const int taps = p.kernel_h * p.kernel_w;
  const int in_words = PackedWords(p.channels_in);
  const int cw = g.packed_channels_per_group;
  const int cin_g = g.channels_per_group;
  const int cout_g = g.out_channels_per_group;
  const int64_t total_pixels = int64_t{p.batch} * g.out_h * g.out_w;
  const int64_t image_words = int64_t{p.in_h} * p.in_w * in_words;
  if (total_pixels > kMaxInt32 || image_words > kMaxInt32 ||
      int64_t{g.out_h} * g.out_w * taps > kMaxInt32 || int64_t{taps} * cin_g > kMaxInt32 / 2 ||
      int64_t{p.batch} * image_words > std::numeric_limits<int64_t>::max() / 8) {
    return Status::Error("bconv2d: tensor too large for the optimized kernel");
  }

  std::unique_ptr<BConv2DKernel> k(new BConv2DKernel());
  k->params_ = p;
  k->geometry_ = g;
  k->isa_ = *resolved;
  k->variant_ = variant;
  k->total_pixels_ = static_cast<int>(total_pixels);
  BConvPlan& plan = k->plan_;
  plan.batch = p.batch;
  plan.in_h = p.in_h;
  plan.in_w = p.in_w;
  plan.in_words = in_words;
  plan.out_h = g.out_h;
  plan.out_w = g.out_w;
  plan.kernel_h = p.kernel_h;
  plan.kernel_w = p.kernel_w;
  plan.taps = taps;
  plan.groups = p.groups;
  plan.group_words = cw;
  plan.out_channels = p.out_channels;
  plan.out_channels_per_group = cout_g;
  plan.out_words = PackedWords(p.out_channels);
  plan.output_type = p.output_type;
  plan.lanes = variant->lanes;
  plan.max_vectors = variant->max_vectors;
  plan.rows = variant->rows;
  plan.tile_channels = variant->lanes * variant->max_vectors;
  plan.tiles_per_group = static_cast<int>(CeilDiv(cout_g, plan.tile_channels));
  plan.total_tiles = plan.tiles_per_group * p.groups;
  plan.padded_channels = plan.total_tiles * plan.tile_channels;
  plan.bitpacked_aligned = p.groups == 1 || cout_g % 32 == 0;

  // Filter: OHWI words -> per tile [tap][word][vector][lane], or [tap][word][vector][lo, hi][lane]
  // for nibble planes. Unused bits are kept: like LCE, the reference counts them when they are
  // not 0.
  const int64_t k_words = int64_t{taps} * cw;
  const int planes = variant->nibble_planes ? 2 : 1;
  k->tile_offset_ = AlignedBuffer<int64_t>(plan.total_tiles);
  int64_t filter_size = 0;
  for (int tile = 0; tile < plan.total_tiles; ++tile) {
    const int t = tile % plan.tiles_per_group;
    const int real = std::min(plan.tile_channels, cout_g - t * plan.tile_channels);
    const int vectors = static_cast<int>(CeilDiv(real, plan.lanes));
    k->tile_offset_[tile] = filter_size;
    filter_size += k_words * vectors * plan.lanes * planes;
  }
  k->filter_ = AlignedBuffer<int32_t>(filter_size);
  for (int tile = 0; tile < plan.total_tiles; ++tile) {
    const int grp = tile / plan.tiles_per_group;
    const int t = tile % plan.tiles_per_group;
    const int real = std::min(plan.tile_channels, cout_g - t * plan.tile_channels);
    const int width = static_cast<int>(CeilDiv(real, plan.lanes)) * plan.lanes;
    int32_t* dst = k->filter_.data() + k->tile_offset_[tile];
    for (int64_t kw = 0; kw < k_words; ++kw) {
      for (int l = 0; l < real; ++l) {
        const int64_t c = int64_t{grp} * cout_g + t * plan.tile_channels + l;
        const int32_t w = filter[c * k_words + kw];
        if (planes == 1) {
          dst[kw * width + l] = w;
        } else {
          int32_t* v = dst + (kw * width + l / plan.lanes * plan.lanes) * 2 + l % plan.lanes;
          SplitNibbles(w, &v[0], &v[plan.lanes]);
        }
      }
    }
  }
  plan.tile_offset = k->tile_offset_.data();
  plan.filter = k->filter_.data();

  // Indirection over one image; padding taps are -1.
  const bool same = p.padding == Padding::kSame;
  k->indirection_ = AlignedBuffer<int32_t>(int64_t{g.out_h} * g.out_w * taps);
  for (int oy = 0; oy < g.out_h; ++oy) {
    for (int ox = 0; ox < g.out_w; ++ox) {
      int32_t* row = k->indirection_.data() + (int64_t{oy} * g.out_w + ox) * taps;
      for (int ky = 0; ky < p.kernel_h; ++ky) {
        for (int kx = 0; kx < p.kernel_w; ++kx) {
          const int iy = oy * p.stride_h - g.pad_top + ky * p.dilation_h;
          const int ix = ox * p.stride_w - g.pad_left + kx * p.dilation_w;
          const bool inside = iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w;
          row[ky * p.kernel_w + kx] =
              inside ? static_cast<int32_t>((int64_t{iy} * p.in_w + ix) * in_words) : -1;
        }
      }
    }
  }
  plan.indirection = k->indirection_.data();
  k->zero_row_ = AlignedBuffer<int32_t>(int64_t{cw} * planes + 16);
  if (planes == 2) k->input_planes_ = AlignedBuffer<int32_t>(2 * int64_t{p.batch} * image_words);
  plan.zero_row = k->zero_row_.data();

  // Epilogue tables in padded channel order.
  auto padded_index = [&](int c) {
    const int grp = c / cout_g;
    const int local = c - grp * cout_g;
    return (grp * plan.tiles_per_group + local / plan.tile_channels) * plan.tile_channels +
           local % plan.tile_channels;
  };
  const bool zero_padding = same && p.pad_values == 0;
  if (p.output_type == BOutputType::kBitpacked) {
    k->threshold_ = AlignedBuffer<int32_t>(plan.padded_channels);
    k->threshold_x2_ = AlignedBuffer<int32_t>(plan.padded_channels);
    std::fill(k->threshold_.data(), k->threshold_.data() + plan.padded_channels, kMaxInt32);
    std::fill(k->threshold_x2_.data(), k->threshold_x2_.data() + plan.padded_channels, kMaxInt32);
    for (int c = 0; c < p.out_channels; ++c) {
      k->threshold_[padded_index(c)] = thresholds[c];
      k->threshold_x2_[padded_index(c)] = static_cast<int32_t>(
          std::clamp<int64_t>(2 * int64_t{thresholds[c]}, -kMaxInt32 - 1, kMaxInt32));
    }
    plan.threshold = k->threshold_.data();
    plan.threshold_x2 = k->threshold_x2_.data();
  } else {
    // LCE's folded output transform (geometry.cc), so every variant rounds exactly alike.
    std::vector<float> folded_multiplier(p.out_channels), folded_bias(p.out_channels);
    FoldOutputTransform(p, g, multiplier, bias, folded_multiplier.data(), folded_bias.data());
    k->multiplier_ = AlignedBuffer<float>(2 * int64_t{plan.padded_channels});  // and doubled
    k->bias_ = AlignedBuffer<float>(plan.padded_channels);
    for (int c = 0; c < p.out_channels; ++c) {
      k->multiplier_[padded_index(c)] = folded_multiplier[c];
      k->multiplier_[plan.padded_channels + padded_index(c)] = 2 * folded_multiplier[c];
      k->bias_[padded_index(c)] = folded_bias[c];
    }
    plan.multiplier = k->multiplier_.data();
    plan.bias = k->bias_.data();
    const OutputClamp clamp = ComputeOutputClamp(p, g);
    plan.clamp_min = clamp.min;
    plan.clamp_max = clamp.max;
    // (x = K - y with |y| <= K: without an activation the range [0, 2K] is all x can be.)
    plan.clamp_x = clamp.min > 0 || int64_t{clamp.max} < 2 * int64_t{g.kernel_elements};
    // EpilogueKind::doubled where no finite multiplier doubles to infinity.
    auto ok = [](float m) { return !__builtin_isfinite(m) || __builtin_isfinite(m + m); };
    const bool doubles = !plan.clamp_x && std::ranges::all_of(folded_multiplier, ok);
    if (doubles) plan.multiplier2 = plan.multiplier + plan.padded_channels;
  }

  // Zero padding: per output row/column the in-bounds kernel range; the rows and the columns
  // with the same range share a border class, and per class pair and channel the table holds
  // s_out (or LCE's float correction), so that a border pixel's epilogue reads one vector per 16
  // channels (it summed five prefix sums: Bi-Real Net's border pixels cost 2x an inner one).
  if (zero_padding) {
    std::vector<int32_t> rows(2 * int64_t{g.out_h}), cols(2 * int64_t{g.out_w});
    bool any = false;
    for (int oy = 0; oy < g.out_h; ++oy) {
      InBoundsRange(oy, p.stride_h, g.pad_top, p.dilation_h, p.kernel_h, p.in_h, &rows[2 * oy],
                    &rows[2 * oy + 1]);
      any |= rows[2 * oy] != 0 || rows[2 * oy + 1] != p.kernel_h;
    }
    for (int ox = 0; ox < g.out_w; ++ox) {
      InBoundsRange(ox, p.stride_w, g.pad_left, p.dilation_w, p.kernel_w, p.in_w, &cols[2 * ox],
                    &cols[2 * ox + 1]);
      any |= cols[2 * ox] != 0 || cols[2 * ox + 1] != p.kernel_w;
    }
    if (any) {
      plan.zero_padding = true;
      plan.lce_border =
          p.output_type == BOutputType::kFloat32 && p.activation == Activation::kNone;
      InnerRange(rows.data(), g.out_h, p.kernel_h, &plan.inner_y0, &plan.inner_y1);
      InnerRange(cols.data(), g.out_w, p.kernel_w, &plan.inner_x0, &plan.inner_x1);
      const BorderClasses rc = ClassifyRanges(rows, p.kernel_h);
      const BorderClasses cc = ClassifyRanges(cols, p.kernel_w);
      const int64_t pc = plan.padded_channels;
      const int ncc = static_cast<int>(cc.ranges.size());
      const int64_t entries = static_cast<int64_t>(rc.ranges.size()) * ncc * pc;
      if (entries > kMaxInt32) return Status::Error("bconv2d: zero-padding table too large");
      // Per channel, 2-D prefix sums over taps of the taps' +1/-1 filter sums, cin_g - 2 *
      // popcount(w): the sum over any rectangle of taps from four of them.
      const int row = p.kernel_w + 1;
      std::vector<int32_t> prefix(int64_t{p.kernel_h + 1} * row);
      if (plan.lce_border) {
        k->border_f_ = AlignedBuffer<float>(entries);
      } else {
        k->border_ = AlignedBuffer<int32_t>(entries);
      }
      k->border_row_ = AlignedBuffer<int32_t>(g.out_h);
      k->border_col_ = AlignedBuffer<int32_t>(g.out_w);
      for (int oy = 0; oy < g.out_h; ++oy) {
        k->border_row_[oy] = static_cast<int32_t>(rc.of[oy] * ncc * pc);
      }
      for (int ox = 0; ox < g.out_w; ++ox)
        k->border_col_[ox] = static_cast<int32_t>(cc.of[ox] * pc);
      for (int c = 0; c < p.out_channels; ++c) {
        const int cp = padded_index(c);
        for (int ky = 0; ky < p.kernel_h; ++ky) {
          for (int kx = 0; kx < p.kernel_w; ++kx) {
            const int32_t* w = filter + (int64_t{c} * taps + ky * p.kernel_w + kx) * cw;
            int ones = 0;
            for (int i = 0; i < cw; ++i) ones += std::popcount(static_cast<uint32_t>(w[i]));
            prefix[(ky + 1) * row + kx + 1] = cin_g - 2 * ones + prefix[ky * row + kx + 1] +
                                              prefix[(ky + 1) * row + kx] - prefix[ky * row + kx];
          }
        }
        auto at = [&](int y, int x) { return prefix[y * row + x]; };
        const int32_t full = at(p.kernel_h, p.kernel_w);
        for (size_t r = 0; r < rc.ranges.size(); ++r) {
          const auto [y0, y1] = rc.ranges[r];
          for (size_t q = 0; q < cc.ranges.size(); ++q) {
            const auto [x0, x1] = cc.ranges[q];
            const int32_t s_out = full - (at(y1, x1) - at(y0, x1) - at(y1, x0) + at(y0, x0));
            const int64_t i = (int64_t(r) * ncc + int64_t(q)) * pc + cp;
            if (plan.lce_border) {
              // The product the epilogue added, (-1.0f * multiplier) * float(s_out), rounded once
              // here. The negated multiplier goes through memory first, as it did (and as LCE
              // caches it): GCC rewrites (-m) * s as -(m * s), whose NaN (inf * 0) has the
              // other sign (a failure on aarch64).
              const volatile float neg = -1.0f * multiplier[c];
              k->border_f_[i] = neg * static_cast<float>(s_out);
            } else {
              k->border_[i] = s_out;
            }
          }
        }
      }
      plan.border = k->border_.data();
      plan.border_f = k->border_f_.data();
      plan.border_row = k->border_row_.data();
      plan.border_col = k->border_col_.data();
      if (plan.lce_border && g.kernel_elements >= kExactFloatSum) {
        // LCE's float accumulation may round here: run the reference kernel instead.
        k->fallback_ = true;
        k->filter_copy_.assign(filter, filter + int64_t{p.out_channels} * k_words);
        k->multiplier_copy_.assign(multiplier, multiplier + p.out_channels);
        k->bias_copy_.assign(bias, bias + p.out_channels);
      }
    }
  }
  if (k->isa_ == Isa::kAvx512Amx && !k->fallback_ &&
      (amx_every_layer || int64_t{taps} * cin_g >= kAmxMinKBits)) {
    k->amx_ = std::make_unique<BConvAmxStorage>();
    if (!k->amx_->Build(p, g, plan, filter)) k->amx_.reset();
    k->pin_tiles_ = amx_every_layer;
  }
  if (variant->pixel_lanes && !k->amx_ && !k->fallback_ && p.groups == 1 && in_words == 1 &&
      p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 1 && p.dilation_w == 1) {
    // (Stride 1: the padded image is the input with pad_top/left before and the rest of the
    // kernel's reach after, out + kernel - 1 along each axis, for SAME and VALID alike.)
    plan.lane_pitch = g.out_w + p.kernel_w - 1;
    plan.lane_rows = g.out_h + p.kernel_h - 1;
    if (g.pad_top + p.in_h > plan.lane_rows || g.pad_left + p.in_w > plan.lane_pitch) {
      return Status::Error("bconv2d: internal error: input larger than its padded image");
    }
    // The borders stay zero; Run copies the input into the rest. The slack covers the last
    // block's 16-lane loads past the last image.
    k->lane_input_ = AlignedBuffer<int32_t>(int64_t{p.batch} * plan.lane_rows * plan.lane_pitch +
                                            kLaneSlackWords);
  }
  return k;
}

bool BConv2DKernel::RunsOnTiles(int threads) const {
  if (amx_ == nullptr) return false;
  if (threads > kAmxMaxThreads) return false;  // bconv_amx.h
  // Strided layers with few jobs run on the vpopcntd kernel when split over threads: every
  // thread then expands the whole input (four phase planes) for the few jobs it has, and 28x28 ->
  // 14x14 and 14x14 -> 7x7 ran 3-13% slower at two threads than on the vpopcntd kernel (1.1-1.25x
  // faster at one; Bi-Real Net in the interpreter, 2-vCPU Xeon).
  const BConvAmxPlan& a = amx_->plan();
  return !(threads > 1 && (a.stride_h > 1 || a.stride_w > 1) && a.jobs_per_image < 16);
}

int BConv2DKernel::scratch_threads(int threads) const {
  return amx_ == nullptr ? 0 : std::min(threads, kAmxMaxThreads);
}

int64_t BConv2DKernel::packed_bytes() const {
  return static_cast<int64_t>(
      filter_.size() * 4 + tile_offset_.size() * 8 + indirection_.size() * 4 +
      zero_row_.size() * 4 + multiplier_.size() * 4 + bias_.size() * 4 + threshold_.size() * 4 +
      threshold_x2_.size() * 4 + border_.size() * 4 + border_f_.size() * 4 +
      border_row_.size() * 4 + border_col_.size() * 4 + filter_copy_.size() * 4 +
      multiplier_copy_.size() * 4 + bias_copy_.size() * 4 + input_planes_.size() * 4 +
      lane_input_.size() * 4 + (amx_ ? amx_->bytes() : 0));
}

namespace {

struct RunContext {
  const BConvPlan* plan;
  const BConvVariant* variant;
  const int32_t* input;
  void* output;
  const BConvFused* fused;
  int total_pixels;
  int64_t blocks;       // pixel blocks of plan->rows pixels
  int64_t pixel_chunks;
  int64_t tile_chunks;
  bool zero_output;     // bitpacked output OR-ed bit by bit: clear the task's rows first
  bool tile_major = false;  // tasks numbered tile chunk by tile chunk (else pixel chunk by chunk)
  const BConvAmxStorage* amx = nullptr;  // AMX: the blocks are its jobs
  int64_t run = 0;
  // AMX with units > 0: task i runs units [units * i / tasks, units * (i + 1) / tasks) of the
  // (job, tile) pairs numbered job by job.
  int64_t units = 0, tasks = 0;
};

// Chunk `i` of `n` over [0, total): sizes differ by at most one.
int64_t SplitPoint(int64_t total, int64_t n, int64_t i) { return total * i / n; }

void RunChunk(const RunContext& c, int thread, int64_t task) {
  const int64_t pc = c.tile_major ? task % c.pixel_chunks : task / c.tile_chunks;
  const int64_t tc = c.tile_major ? task / c.pixel_chunks : task - pc * c.tile_chunks;
  if (c.amx != nullptr) {
#if defined(__x86_64__)  // the amx variant's kernel file is built there only
    if (c.units > 0) {
      // Whole jobs where the range covers them, else part of one job's tiles.
      const int tiles = c.plan->total_tiles;
      const int64_t u1 = SplitPoint(c.units, c.tasks, task + 1);
      for (int64_t u = SplitPoint(c.units, c.tasks, task); u < u1;) {
        const int job = static_cast<int>(u / tiles), t = static_cast<int>(u % tiles);
        const int whole_end = t == 0 ? static_cast<int>(u1 / tiles) : job;  // [job, whole_end)
        if (whole_end > job) {
          BConvAmxRun(*c.plan, c.amx->plan(), c.input, c.output, c.fused, job, whole_end, 0, tiles,
                      c.run, c.amx->scratch(thread));
          u = int64_t{whole_end} * tiles;
          continue;
        }
        const int te = static_cast<int>(std::min<int64_t>(tiles, t + u1 - u));
        BConvAmxRun(*c.plan, c.amx->plan(), c.input, c.output, c.fused, job, job + 1, t, te, c.run,
                    c.amx->scratch(thread));
        u += te - t;
      }
      return;
    }
    const int jb = static_cast<int>(SplitPoint(c.blocks, c.pixel_chunks, pc));
    const int je = static_cast<int>(SplitPoint(c.blocks, c.pixel_chunks, pc + 1));
    const int tb = static_cast<int>(SplitPoint(c.plan->total_tiles, c.tile_chunks, tc));
    const int te = static_cast<int>(SplitPoint(c.plan->total_tiles, c.tile_chunks, tc + 1));
    if (jb < je && tb < te) {
      BConvAmxRun(*c.plan, c.amx->plan(), c.input, c.output, c.fused, jb, je, tb, te, c.run,
                  c.amx->scratch(thread));
    }
#else
    (void)thread;
#endif
    return;
  }
  const int rows = c.plan->rows;
  const int pb = static_cast<int>(
      std::min<int64_t>(c.total_pixels, SplitPoint(c.blocks, c.pixel_chunks, pc) * rows));
  const int pe = static_cast<int>(
      std::min<int64_t>(c.total_pixels, SplitPoint(c.blocks, c.pixel_chunks, pc + 1) * rows));
  const int tb = static_cast<int>(SplitPoint(c.plan->total_tiles, c.tile_chunks, tc));
  const int te = static_cast<int>(SplitPoint(c.plan->total_tiles, c.tile_chunks, tc + 1));
  if (pb >= pe || tb >= te) return;
  if (c.zero_output) {
    int32_t* out = static_cast<int32_t*>(c.output);
    std::memset(out + int64_t{pb} * c.plan->out_words, 0,
                sizeof(int32_t) * static_cast<size_t>(pe - pb) * c.plan->out_words);
  }
  c.variant->run(*c.plan, c.input, c.output, c.fused, pb, pe, tb, te);
}

}  // namespace

void BConv2DKernel::RunTask(void* ctx, int thread, int task) {
  RunChunk(*static_cast<const RunContext*>(ctx), thread, task);
}

void BConv2DKernel::Run(const int32_t* input, void* output, TaskRunner* runner,
                        const BConvFused* fused) const {
  if (fallback_) {
    BConv2DArgs args;
    args.input = input;
    args.filter = filter_copy_.data();
    args.multiplier = multiplier_copy_.data();
    args.bias = bias_copy_.data();
    args.output = output;
    reference::BConv2D(params_, geometry_, args);
    return;
  }
  const int threads = runner == nullptr ? 1 : runner->threads_now();
  if (variant_->nibble_planes) {
    // Each input word w becomes (w & 0x0F0F0F0F, (w >> 4) & 0x0F0F0F0F): once per Run instead of
    // once per pixel, tap and channel tile in the micro-kernel.
    const int64_t n = input_planes_.size() / 2;
    int32_t* dst = input_planes_.data();
    for (int64_t i = 0; i < n; ++i) SplitNibbles(input[i], &dst[2 * i], &dst[2 * i + 1]);
    input = dst;
  }
  if (plan_.lane_pitch > 0) {
    // The pixel-lane layout: each image row at its place in the zero-bordered padded image.
    const int pad_top = geometry_.pad_top, pad_left = geometry_.pad_left;
    int32_t* dst = lane_input_.data();
    for (int n = 0; n < plan_.batch; ++n) {
      for (int y = 0; y < plan_.in_h; ++y) {
        std::memcpy(
            dst + (int64_t{n} * plan_.lane_rows + y + pad_top) * plan_.lane_pitch + pad_left,
            input + (int64_t{n} * plan_.in_h + y) * plan_.in_w,
            sizeof(int32_t) * static_cast<size_t>(plan_.in_w));
      }
    }
    input = dst;
  }
  if (!RunsOnTiles(threads)) {
    RunOn(input, output, runner, fused, threads, false);
    return;
  }
  if (pin_tiles_) {
    RunOn(input, output, runner, fused, threads, true);
    return;
  }
  const bool tiles = tile_choice_.UseTiles(threads);
  const auto t0 = std::chrono::steady_clock::now();
  RunOn(input, output, runner, fused, threads, tiles);
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  tile_choice_.Record(threads, tiles, static_cast<int64_t>(ns));
}

void BConv2DKernel::RunOn(const int32_t* input, void* output, TaskRunner* runner,
                          const BConvFused* fused, int threads, bool amx) const {
  const bool bitpacked = plan_.output_type == BOutputType::kBitpacked;
  RunContext c{&plan_,
               variant_,
               input,
               output,
               fused,
               total_pixels_,
               CeilDiv(total_pixels_, plan_.rows),
               1,
               1,
               bitpacked && !plan_.bitpacked_aligned};
  if (amx) {
    amx_->ReserveThreads(threads, runner);
    c.amx = amx_.get();
    c.blocks = int64_t{plan_.batch} * amx_->plan().jobs_per_image;
    c.run = ++runs_;
  }
  if (threads <= 1 || total_pixels_ == 0) {
    if (runner != nullptr && runner->num_threads() > 1) {
      runner->ParallelFor(1, &BConv2DKernel::RunTask, &c);  // one task, counted by the pool
    } else {
      RunChunk(c, 0, 0);
    }
    return;
  }
  // 8 tasks per thread, split evenly (sizes differ by at most one pixel block or tile) and claimed
  // dynamically: enough to absorb a late or slower thread (a thread claims from its own range of
  // the tasks without contention, task_runner.h; 8 measured 1.01-1.06x faster than 4 at two
  // threads on the Zoo models, 16 no faster than 8). With few pixel blocks (7x7 maps) the output
  // channels are split too, except for bit-by-bit bitpacked output, which keeps all of a pixel's
  // channels in one task; then the tasks are numbered channel tile by tile, so that each thread's
  // own range covers half the tiles and it reads half the filter (from L3: the whole model's
  // filters do not stay in L2) instead of all of it for half the pixels: 1.024x QuickNetSmall,
  // 1.031x Bi-Real Net at two threads (interleaved A/B, 2-vCPU Xeon). On the larger maps the same
  // order measured 0.98x (the transition blocks before them split by pixels). AMX: 2 tasks per
  // thread, since a task's last job has no next one to overlap its epilogue with and each task
  // expands its own input rows: QuickNet at two threads 1.09x faster than with 8 (1.07x with 4).
  const int64_t target = int64_t{threads} * (amx ? 2 : 8);
  // A filter beyond kTileSplitFilterBytes is split by channel tiles on any map (by pixels, every
  // task streams it whole: 590 KB of nibble planes at 7x7x512 against a Zen 3 core's 512 KB L2).
  const bool big_filter = !amx && static_cast<int64_t>(filter_.size()) * int64_t{sizeof(int32_t)} >
                                      kTileSplitFilterBytes;
  // Never on the AMX tiles: the (job, tile) split below ran 7x7x512 layers 1.11-1.19x faster at
  // two threads, tile-major tasks 14x14 ones 0.67-0.81x (interleaved A/B, Xeon model 207).
  if (!amx && !c.zero_output && (c.blocks < target || big_filter)) {
    c.tile_chunks = std::min<int64_t>(plan_.total_tiles, target);
    c.tile_major = true;
  }
  c.pixel_chunks = std::min(c.blocks, std::max<int64_t>(1, CeilDiv(target, c.tile_chunks)));
  // AMX layers with few jobs (7x7 and 14x14 maps) split their (job, tile) pairs evenly into one
  // task per thread, where whole jobs split 3:4 (14x14: ~10% faster at two threads, Zoo models
  // 1.002-1.012x; interleaved A/B, 2-vCPU Xeon). On larger maps this measured no better.
  if (amx && c.blocks < 4 * target && plan_.total_tiles > 1) {
    c.units = c.blocks * plan_.total_tiles;
    c.tasks = threads;
    RunParallel(runner, threads, &BConv2DKernel::RunTask, &c);
    return;
  }
  RunParallel(runner, static_cast<int>(c.pixel_chunks * c.tile_chunks), &BConv2DKernel::RunTask,
              &c);
}

}  // namespace xbnn::kernels::optimized
