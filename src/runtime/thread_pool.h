// The interpreter's thread pool: one per interpreter, shared by the binary kernels and the builtin
// (float and int8) ops, which all split their work through the kernels' TaskRunner interface.
// StdThreadRunner (kernels/binary/optimized/task_runner.h) never makes the calling thread wait for
// a worker that has not started, so a busy machine does not turn two threads into a stall.
#pragma once

#include "kernels/binary/optimized/task_runner.h"

namespace xbnn::runtime {

using ThreadPool = kernels::StdThreadRunner;

}  // namespace xbnn::runtime
