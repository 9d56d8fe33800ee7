// The optimized binary kernels in one include: variant selection (isa.h), the threading interface
// (task_runner.h), LceBconv2d (bconv2d.h), LceBMaxPool2d (bmaxpool2d.h) and LceQuantize
// (bitpack.h). Each kernel validates and repacks at Create and runs allocation-free at Run.
#pragma once

#include "kernels/binary/optimized/bconv2d.h"
#include "kernels/binary/optimized/bitpack.h"
#include "kernels/binary/optimized/bmaxpool2d.h"
#include "kernels/binary/optimized/isa.h"
#include "kernels/binary/optimized/task_runner.h"
