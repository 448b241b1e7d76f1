# protocol-ocr — the two commands a newcomer needs:
#   make demo   install, build, scan the bundled sample, score it, print the report
#   make test   install, then fmt + clippy + the whole test suite
# Measuring runs (hundreds of photos) are `make eval` and `make bench`.

BIN := target/release/protocol-ocr
DEMO_OUT := target/demo-out
EVAL_DIR := target/eval-s4242
EVAL_OUT := target/eval-s4242-out

EVAL_HW_DIR := target/eval-hw-s777
EVAL_HW_OUT := target/eval-hw-s777-out
EVAL_UNSEEN_DIR := target/eval-hw-unseen-s781
EVAL_UNSEEN_OUT := target/eval-hw-unseen-s781-out
EVAL_MESSENGER_DIR := target/eval-messenger-s1280
EVAL_MESSENGER_OUT := target/eval-messenger-s1280-out
# Real phone photos of Nigeria's 2023 Form EC8A with their double-entry
# truth: not part of the repository, give their folder (REAL=DIR).
REAL ?=
REAL_OUT := target/eval-real-out

.PHONY: deps build product demo test eval eval-handwritten eval-messenger eval-real bench bench-memory fixtures fuzz train-digits train-sequence

deps:
	@bash scripts/install-deps.sh

build: deps
	cargo build --release

# The binary an observer installs: scan, review, report, verify, sign —
# without the lab (synth, train-digits, eval-digits, their fonts and MNIST
# digits): target/product/protocol-ocr.
product: deps
	cargo build --profile product --no-default-features
	@ls -l target/product/protocol-ocr

demo: build
	$(BIN) scan fixtures/sample --out $(DEMO_OUT)
	$(BIN) eval --truth fixtures/sample/truth.jsonl --results $(DEMO_OUT)/results.jsonl
	$(BIN) report $(DEMO_OUT)
	@echo "report page: $(DEMO_OUT)/report.html   review the flagged ones: $(BIN) review $(DEMO_OUT)"

test: deps
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --no-default-features -- -D warnings
	cargo build --release
	cargo test --release

# A fresh synthetic set the project has never seen, scanned and scored.
eval: build
	rm -rf $(EVAL_DIR) $(EVAL_OUT)
	$(BIN) synth --out $(EVAL_DIR) --count 200 --seed 4242 --inconsistent 0.2
	$(BIN) scan $(EVAL_DIR) --out $(EVAL_OUT)
	$(BIN) eval --truth $(EVAL_DIR)/truth.jsonl --results $(EVAL_OUT)/results.jsonl

# Half the protocols handwritten (MNIST digits 0-4999 and handwriting
# faces), scored for printed and handwritten protocols apart; then the
# same recipe written by people no reader ever trained on (MNIST's held-out
# digits 5000-9999, seed 781): the fair measure of the handwriting reader.
eval-handwritten: build
	rm -rf $(EVAL_HW_DIR) $(EVAL_HW_OUT) $(EVAL_UNSEEN_DIR) $(EVAL_UNSEEN_OUT)
	$(BIN) synth --out $(EVAL_HW_DIR) --count 200 --seed 777 --handwritten 0.5 --inconsistent 0.2
	$(BIN) scan $(EVAL_HW_DIR) --out $(EVAL_HW_OUT)
	$(BIN) eval --truth $(EVAL_HW_DIR)/truth.jsonl --results $(EVAL_HW_OUT)/results.jsonl
	$(BIN) synth --out $(EVAL_UNSEEN_DIR) --count 200 --seed 781 --handwritten 0.5 --inconsistent 0.2 --hand-digits held-out
	$(BIN) scan $(EVAL_UNSEEN_DIR) --out $(EVAL_UNSEEN_OUT)
	$(BIN) eval --truth $(EVAL_UNSEEN_DIR)/truth.jsonl --results $(EVAL_UNSEEN_OUT)/results.jsonl
	$(BIN) eval-digits
	$(BIN) eval-sequence

# Printed protocols as a messenger delivers them: the phone's photo shrunk
# to 1280-1600 pixels on the long side and encoded again at JPEG quality
# 70-85.
eval-messenger: build
	rm -rf $(EVAL_MESSENGER_DIR) $(EVAL_MESSENGER_OUT)
	$(BIN) synth --out $(EVAL_MESSENGER_DIR) --count 60 --seed 1280 --inconsistent 0.2 --messenger 1
	$(BIN) scan $(EVAL_MESSENGER_DIR) --out $(EVAL_MESSENGER_OUT)
	$(BIN) eval --truth $(EVAL_MESSENGER_DIR)/truth.jsonl --results $(EVAL_MESSENGER_OUT)/results.jsonl

# The real photos, read with their form's model: the usual scores, then a
# line per photo (values right / wrong / not read, status, why), photos
# accepted with a wrong value first.
eval-real: build
	@test -n "$(REAL)" || { echo "give the real photos' folder: make eval-real REAL=DIR"; exit 2; }
	@test -f $(REAL)/truth.jsonl || { echo "no $(REAL)/truth.jsonl: make eval-real REAL=DIR"; exit 2; }
	rm -rf $(REAL_OUT)
	$(BIN) scan $(REAL) --out $(REAL_OUT) --model models/ng-2023-ec8a.toml
	$(BIN) eval --truth $(REAL)/truth.jsonl --results $(REAL_OUT)/results.jsonl --per-photo

# The throughput comparison (protocol-ocr against the tesseract CLI and the
# read+hash+decode floor, on a fresh synthetic set; BENCH_COUNT=100 photos),
# then the per-stage criterion benchmarks on a photo of the bundled sample.
bench: build
	cargo build --release --example floor
	bash scripts/bench.sh
	cargo bench --bench stages

# Peak memory scanning 50 against 500 photos (must not grow with the batch).
bench-memory: build
	bash scripts/bench.sh memory

# The property tests (parsers fed arbitrary text, rules against a reference)
# with many more cases than `make test` runs: about two minutes; then the
# review server driven with arbitrary requests (REVIEW_FUZZ_CASES of each
# kind, about ten seconds per 5 000).
FUZZ_CASES ?= 500000
REVIEW_FUZZ_CASES ?= 20000
fuzz: deps
	PROPTEST_CASES=$(FUZZ_CASES) cargo test --release --test properties
	PROPTEST_CASES=$(REVIEW_FUZZ_CASES) cargo test --release --test review_fuzz

# Regenerates the committed sample (only when synth changes on purpose).
fixtures: build
	rm -rf fixtures/sample
	$(BIN) synth --out fixtures/sample --count 24 --seed 2021 --inconsistent 0.25

# Retrains the glyph network (models/digits.bin) from seed 1: rendered
# print in the bundled fonts, four of the six bundled handwriting faces and
# MNIST's 60 000 training digits (give their folder, which holds
# train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz:
# `make train-digits MNIST_TRAIN=DIR`), on candle; about 45 minutes on two
# cores.
# Prints its accuracy on what it never saw, then `eval-digits` its
# calibration. Rebuild afterwards: the binary carries the network.
train-digits: build
	@test -n "$(MNIST_TRAIN)" || { echo "give MNIST's training set: make train-digits MNIST_TRAIN=DIR"; exit 2; }
	$(BIN) train-digits --out models/digits.bin --seed 1 --epochs 15 --mnist-train $(MNIST_TRAIN)
	cargo build --release
	$(BIN) eval-digits

# Retrains the sequence reader of handwritten counts
# (models/sequence.safetensors) on counts composed from MNIST's 60 000
# training digits (`make train-sequence MNIST_TRAIN=DIR`): 3000 steps from
# seed 1, then 2400 more on new counts (seed 2), then 1500 more (seed 3);
# about fifty, forty and thirty minutes on two cores. Then rebuilds and compares it with the glyph reader on counts
# of MNIST's held-out writers (`eval-sequence`). Refit the calibration
# after (see docs/reader.md).
train-sequence: build
	@test -n "$(MNIST_TRAIN)" || { echo "give MNIST's training set: make train-sequence MNIST_TRAIN=DIR"; exit 2; }
	$(BIN) train-sequence --mnist-train $(MNIST_TRAIN) --out target/sequence-first.safetensors --seed 1 --steps 3000
	$(BIN) train-sequence --mnist-train $(MNIST_TRAIN) --out target/sequence-second.safetensors --seed 2 --steps 2400 \
		--from target/sequence-first.safetensors
	$(BIN) train-sequence --mnist-train $(MNIST_TRAIN) --out models/sequence.safetensors --seed 3 --steps 1500 \
		--from target/sequence-second.safetensors
	cargo build --release
	$(BIN) eval-sequence
