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
  void Quote(const std::string& s) {
    out_ += '"';
    for (unsigned char c : s) {
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
          } else {
            out_ += static_cast<char>(c);
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
