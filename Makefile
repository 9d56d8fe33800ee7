# Two commands for a fresh machine: `make demo` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(CURDIR)
BUILD ?= build
JOBS ?= $(shell nproc)
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
LCE_VENV := $(ROOT)/.cache/lce-venv
FUZZ_SECONDS ?= 60
XBNN := $(BUILD)/tools/xbnn

.PHONY: help deps configure build install test-tsan demo test test-cpp test-python test-fuzz test-sanitize test-lce test-zoo \
        test-aarch64 test-armv7 test-consumer fuzz zoo lce-venv fixtures format clean onnx-venv onnx-fixtures onnx-full onnx-bench device-bundle

help:
	@echo "xbnn make targets:"
	@echo "  make demo          install dependencies, build, run the shipped digits model"
	@echo "  make test          install dependencies, build, run every test (C++, Python, fuzz smoke)"
	@echo "  make build         Release build in $(BUILD)/"
	@echo "  make test-sanitize ASan+UBSan build and unit tests (clang)"
	@echo "  make test-tsan     ThreadSanitizer build of the threading tests (clang)"
	@echo "  make fuzz          run the fuzz targets (reader, invoke, passes) longer: FUZZ_SECONDS per"
	@echo "                    target (default 600), FUZZ_TARGETS, FUZZ_PARALLEL=1 (one per core)"
	@echo "  make lce-venv      create the reference venv with TensorFlow + LCE (large download)"
	@echo "  make fixtures      regenerate tests/models/lce from the real LCE (needs lce-venv)"
	@echo "  make zoo           build LCE-converted Larq Zoo models into .cache/zoo (needs lce-venv)"
	@echo "  make test-lce      interop tests against LCE's own interpreter (needs lce-venv)"
	@echo "  make test-zoo      golden tests on the Zoo models in .cache/zoo"
	@echo "  make test-python-install  fresh venv, pip install ., README example"
	@echo "  make test-aarch64  cross-build the whole engine for AArch64, all C++ tests under qemu-aarch64"
	@echo "  make test-armv7    the same for 32-bit ARMv7 (armhf) under qemu-arm, plus the static CLI"
	@echo "  make test-consumer install to a temporary prefix, build tests/consumer against it"
	@echo "  make install       install the library, headers, CMake package and xbnn.pc (PREFIX=...)"
	@echo "  make onnx-venv     create the ONNX reference venv (PyTorch, onnx, onnxruntime; large download)"
	@echo "  make onnx-fixtures regenerate tests/models/onnx with PyTorch + onnxruntime (needs onnx-venv)"
	@echo "  make onnx-full     full-size Bi-Real Net-18 (random weights) into .cache/onnx (needs onnx-venv)"
	@echo "  make onnx-bench    xbnn vs onnxruntime on that model, 1 and 2 threads (needs onnx-full)"
	@echo "  make device-bundle .devcarry/ for a machine without xbnn's dependencies (needs zoo):"
	@echo "                    binaries, tests, Zoo models, OpenVINO; run scripts/device-run.sh there"

deps:
	@bash scripts/install-deps.sh

# Configure every time (cheap), so option changes reach existing build dirs.
configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DXBNN_BUILD_PYTHON=ON \
	  -DPython_EXECUTABLE=$(PY) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(XBNN)

test: build
	@bash scripts/run-tests.sh

test-cpp: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-python: build
	@PYTHONPATH=$(ROOT)/$(BUILD)/python XBNN=$(ROOT)/$(XBNN) $(PY) -m pytest -q tests/python
	@bash scripts/test-python-install.sh

# A fresh venv, `pip install .`, and the README's Python example (slow: builds the extension).
test-python-install: deps
	@bash scripts/test-python-install.sh

test-fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} bash scripts/fuzz.sh

test-sanitize: deps
	@CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DXBNN_SANITIZE=ON -DXBNN_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@ctest --test-dir build-asan --output-on-failure -j $(JOBS)
	@bash scripts/test-tflite-delegate-asan.sh build-asan

# ThreadSanitizer on the multi-threaded tests (several interpreters on one model, thread pools).
test-tsan: deps
	@CC=clang CXX=clang++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DXBNN_TSAN=ON -DXBNN_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target runtime_test xbnn_kernels_optimized_test builtin_test
	@build-tsan/tests/runtime/runtime_test --gtest_filter='Interpreter.*:Fixtures/Golden.MatchesLce/toy*:Fixtures/Golden.MatchesLce/bitpacked*'
	@build-tsan/tests/kernels/xbnn_kernels_optimized_test --gtest_filter='*Thread*:*RandomGrid*:*TaskRunner*:*Fused*:*ChainBConv2D*:AmxBConv2DTest.*'
	@build-tsan/tests/builtin/builtin_test --gtest_filter='XnnChunks*:*MultiThreaded*:ConvBf16Test.ThreadsBitExact:ConvWinogradKernelTest.*:Grid/ConvWinogradTest.*/1x30x29x3*:Grid/ConvWinogradTest.*/2x17x23x3*:*ConvQuantizeFusion*:*ConvPoolFusion*:DepthwiseTest.FloatSumsInTfliteOrder:BinaryThreads.*:ElementwiseChainTest.*:*GroupConvFusion*:ChainBitsTest.*:*ChainPoolTest*:BconvChainFusion.*:PoolTest.GlobalAverage*:*BinaryValuedConv*:PreluTest.*:*.ChannelsOnThreads:FullyConnectedTest.OneRowBitExactOverBlocks'

lce-venv:
	@bash tools/lce_reference/setup.sh

fixtures: lce-venv
	@$(LCE_VENV)/bin/python tools/lce_reference/generate.py --out tests/models/lce

onnx-venv:
	@bash tools/onnx_reference/setup.sh

onnx-fixtures: onnx-venv
	@$(ROOT)/.cache/onnx-venv/bin/python tools/onnx_reference/generate.py --out tests/models/onnx

onnx-full: onnx-venv build
	@$(ROOT)/.cache/onnx-venv/bin/python tools/onnx_reference/generate.py --full
	@$(XBNN) convert .cache/onnx/birealnet18.onnx .cache/onnx/birealnet18.tflite --overwrite

onnx-bench: onnx-full
	@$(ROOT)/.cache/onnx-venv/bin/python tools/onnx_reference/bench_onnx.py --xbnn $(XBNN) \
	  --onnx .cache/onnx/birealnet18.onnx --tflite .cache/onnx/birealnet18.tflite

zoo: lce-venv
	@$(LCE_VENV)/bin/python tools/lce_reference/generate.py --zoo --out .cache/zoo

test-lce: build
	@if [ ! -x $(LCE_VENV)/bin/python ]; then echo "test-lce: skipped: no reference venv (run 'make lce-venv')"; exit 0; fi; \
	PYTHONPATH=$(ROOT)/$(BUILD)/python XBNN_BUILD_DIR=$(ROOT)/$(BUILD) $(LCE_VENV)/bin/python -m pytest -q tests/lce

device-bundle: build
	@bash scripts/device-bundle.sh $(MODELS)

test-zoo: build
	@XBNN_GOLDEN_DIR=$(ROOT)/.cache/zoo $(BUILD)/tests/runtime/runtime_test --gtest_filter='Fixtures/*'

test-aarch64: deps
	@bash scripts/test-aarch64.sh

# Install into a temporary prefix and build tests/consumer against it (also part of `make test`).
test-consumer: build
	@bash scripts/test-consumer.sh

# Headers, libxbnn.so/.a, xbnnConfig.cmake, xbnn.pc and the xbnn tool under PREFIX.
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX) --component dev

test-armv7: deps
	@bash scripts/test-armv7.sh

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-aarch64 build-armv7 build-armv7-static
