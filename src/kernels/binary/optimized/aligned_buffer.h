// A fixed-size, 64-byte aligned, zero-initialised array (cache-line aligned packed weights).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>

namespace xbnn::kernels::optimized {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) : size_(n) {
    if (n != 0) {
      data_.reset(static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})));
      std::memset(static_cast<void*>(data_.get()), 0, n * sizeof(T));
    }
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  struct Deleter {
    void operator()(T* p) const { ::operator delete(static_cast<void*>(p), std::align_val_t{64}); }
  };
  std::unique_ptr<T[], Deleter> data_;
  size_t size_ = 0;
};

}  // namespace xbnn::kernels::optimized
