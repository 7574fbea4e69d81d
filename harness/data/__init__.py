"""Datasets: the embedded synthetic tasks and their tokenizer."""
