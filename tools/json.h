// A minimal streaming JSON writer for the tools' --json output (no dependency needed).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace xbnn::tools {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { Prefix(); out_ += '{'; first_.push_back(true); return *this; }
  JsonWriter& EndObject() { out_ += '}'; first_.pop_back(); return *this; }
  JsonWriter& BeginArray() { Prefix(); out_ += '['; first_.push_back(true); return *this; }
  JsonWriter& EndArray() { out_ += ']'; first_.pop_back(); return *this; }
  JsonWriter& Key(const std::string& k) {
    Prefix();
    Quote(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(const std::string& s) { Prefix(); Quote(s); return *this; }
  JsonWriter& Int(int64_t v) { Prefix(); out_ += std::to_string(v); return *this; }
  JsonWriter& Bool(bool v) { Prefix(); out_ += v ? "true" : "false"; return *this; }
  JsonWriter& Null() { Prefix(); out_ += "null"; return *this; }
  JsonWriter& Double(double v) {
    Prefix();
    if (!std::isfinite(v)) {
      out_ += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.9g", v);
      out_ += buf;
    }
    return *this;
  }
  template <typename T>
  JsonWriter& IntArray(const std::vector<T>& v) {
    BeginArray();
    for (const T& x : v) Int(static_cast<int64_t>(x));
    return EndArray();
  }
  JsonWriter& DoubleArray(const std::vector<double>& v) {
    BeginArray();
    for (double x : v) Double(x);
    return EndArray();
  }
  const std::string& str() const { return out_; }

 private:
  void Prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  // Length of the valid UTF-8 sequence at s[i] (lead byte >= 0x80), or 0.
  static size_t Utf8Length(const std::string& s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    const size_t n = c >= 0xC2 && c <= 0xDF   ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return 0;
    }
    // No overlong forms, UTF-16 surrogates or code points past U+10FFFF.
    if ((c == 0xE0 && byte(i + 1) < 0xA0) || (c == 0xED && byte(i + 1) > 0x9F) ||
        (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) > 0x8F)) {
      return 0;
    }
    return n;
  }
  // A JSON string: escapes, and U+FFFD for each byte that is not part of valid UTF-8 (a model's
  // tensor names are arbitrary bytes), so that the output always parses.
  void Quote(const std::string& s) {
    out_ += '"';
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out_ += buf;
          } else if (c < 0x80) {
            out_ += static_cast<char>(c);
          } else if (const size_t n = Utf8Length(s, i)) {
            out_.append(s, i, n);
            i += n - 1;
          } else {
            out_ += "\\ufffd";
          }
      }
    }
    out_ += '"';
  }
  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace xbnn::tools
