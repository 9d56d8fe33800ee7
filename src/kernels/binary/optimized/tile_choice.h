// Whether an AMX layer's next Run takes the tiles or the vpopcntd kernel (BConv2DKernel::Run).
//
// The tile unit of a virtual machine's core can run 2-3x slower for a while when the vector units
// do not (a 2-vCPU Xeon guest: a 56x56x64 layer's tile loop took >1.5x its best time in 6.5% of
// 10 s of back-to-back ~60 us Runs, in windows of one Run mostly, of 8-30 ms sometimes; in 50 ms
// probes the layer ran at 360-420 G binary MAC/s on the tiles in such windows against 920-990
// otherwise, at 580-860 on vpopcntd). The second tile Run in a row that takes 1.5x the tiles' best
// time and longer than the layer's best vpopcntd Run moves the layer to vpopcntd for the next Run;
// each probe of the tiles that is slow again doubles that wait, up to kMaxWait Runs, and a fast
// one resets it. Both kernels give the same outputs bit for bit (integer sums, the same epilogue),
// so the choice changes only the time.
#pragma once

#include <algorithm>
#include <cstdint>

namespace xbnn::kernels::optimized {

class TileChoice {
 public:
  static constexpr int kMaxWait = 32;

  explicit TileChoice(int threads = 0) : threads_(threads) {}

  // Whether the next Run on `threads` threads should take the tiles.
  bool UseTiles(int threads) const { return threads != threads_ || wait_ == 0; }

  // A Run on `threads` threads took `ns` nanoseconds, on the tiles or not.
  void Record(int threads, bool tiles, int64_t ns) {
    if (threads != threads_) *this = TileChoice{threads};  // times differ per thread count
    if (ns <= 0) return;
    if (tiles) {
      Recent(tiles_best_, ns);
      // Slow: 1.5x the tiles' best (not the noise of a Run) and slower than vpopcntd's best.
      const bool slow = 2 * ns > 3 * tiles_best_ && (vector_best_ == 0 || ns > vector_best_);
      if (!slow) {
        strikes_ = 0;
        next_wait_ = 1;
      } else if (++strikes_ >= 2) {  // (most slow windows last one Run: those cost nothing)
        wait_ = next_wait_;
        next_wait_ = std::min(2 * next_wait_, kMaxWait);
      }
    } else {
      Recent(vector_best_, ns);
      if (wait_ > 0) --wait_;
    }
  }

  int wait() const { return wait_; }

 private:
  // A best time that drifts up by 1/64 per Run, so that a lasting change of speed is followed.
  static void Recent(int64_t& best, int64_t ns) {
    best = best == 0 ? ns : std::min(ns, best + best / 64);
  }

  int threads_ = 0;
  int64_t tiles_best_ = 0;   // 0: no Run yet
  int64_t vector_best_ = 0;  // the vpopcntd kernel's; 0: no Run yet
  int wait_ = 0;             // vpopcntd Runs before the next probe of the tiles
  int next_wait_ = 1;
  int strikes_ = 0;  // slow tile Runs in a row
};

}  // namespace xbnn::kernels::optimized
