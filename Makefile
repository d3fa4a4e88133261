# Two commands: `make run` sets up and starts everything; `make test` runs every check CI runs.
# `make dev` opens a shell in which the Rasa CLI (rasa shell, rasa interactive) talks to this bot.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)

.PHONY: run dev test lint typecheck validate pytest story-test chromium widget eval bench profile report clean

# `rasa test` runs every test_*.yml under the project, the venv included, where Rasa's package
# carries the sample tests `rasa init` copies (mood_great, utter_happy...): not this bot's.
RASA_SAMPLE_TESTS := $(VENV)/lib/python3.10/site-packages/rasa/cli/initial_project/tests/test_stories.yml

$(BIN)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 supports no newer); install python3.10"; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<25"
	$(BIN)/pip install --quiet -r requirements.lock
	rm -f $(RASA_SAMPLE_TESTS)
	touch $@

# The stock rasa-webchat widget (socket.io channel), pinned by package-lock.json, served by the Rasa server.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

widget: node_modules/.installed

run: $(BIN)/.installed widget
	$(BIN)/python -m stack.domain
	$(BIN)/python -m stack

dev: $(BIN)/.installed
	$(BIN)/python -m stack.domain
	$(BIN)/python -m stack.dev

test: lint typecheck validate story-test pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

validate: $(BIN)/.installed
	$(BIN)/python -m stack.domain --check
	$(BIN)/rasa data validate --fail-on-warnings

pytest: $(BIN)/.installed chromium widget
	$(BIN)/python -m pytest -q --durations=25

# Browser tests drive Debian's chromium; install it if it is missing (needs root or sudo).
chromium:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

MODEL = $$($(BIN)/python -c 'from pathlib import Path; from stack.model import ensure_model; print(ensure_model(Path("."), "$(BIN)/rasa"))')

# One `rasa test core` (one model load) over both story sets: a temporary folder of links to them.
STORY_SETS := tests/test_stories.yml tests/stories

story-test: $(BIN)/.installed
	model=$(MODEL) && sets=$$(mktemp -d) && ln -s $(addprefix $(CURDIR)/,$(STORY_SETS)) "$$sets/" && { \
		$(BIN)/rasa test core --model "$$model" --stories "$$sets" --fail-on-prediction-errors \
			--out .data/story-results; status=$$?; rm -rf "$$sets"; exit $$status; }

# Prints intent macro-F1 per language (held-out sets), language detection on short messages,
# and crisis-screen recall and false-positive rates.
eval: $(BIN)/.installed
	model=$(MODEL) && $(BIN)/python -m evaluation --model "$$model"
	$(BIN)/python -m screening.evaluate

# Prints figures only; asserts nothing. Bounded: a fixed amount of work, and at most 40 minutes in all.
# Crisis screen per message (typical, 4 KB); then one system started and measured (README "Scaling out").
bench: $(BIN)/.installed
	timeout 300 $(BIN)/python -m screening.benchmark
	timeout 2100 $(BIN)/python -u -m evaluation.throughput

# Where a bot turn's time goes in the Rasa process (py-spy), the patient channel against stock rest.
profile: $(BIN)/.installed
	$(BIN)/pip install -q py-spy==0.4.0
	timeout 900 $(BIN)/python -u -m evaluation.profile_turns

# Operations report of a date range (SINCE=YYYY-MM-DD UNTIL=YYYY-MM-DD, UTC; default the last 30 days) from the
# operations events in REDIS_URL (HANDOFF_NAMESPACE, HANDOFF_DATA_KEYS): HTML with the dashboard's plots and CSV,
# under .data/reports/.
report: $(BIN)/.installed
	$(BIN)/python -m handoff.operations_report $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL))

clean:
	rm -rf $(VENV) models .data/story-results node_modules
