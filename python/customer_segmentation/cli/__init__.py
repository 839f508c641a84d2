"""Command lines: argument parsing, printing and exit codes, one console script each."""
