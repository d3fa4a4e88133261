"""QA figures for `make eval`: intent macro-F1 per language and language detection on short messages."""
