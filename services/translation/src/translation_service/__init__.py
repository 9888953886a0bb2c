"""translation-service: text and documents translated by seq2seq models behind KServe."""
