"""Parts of the mod_tls benchmark (bench/run.sh); see docs/benchmark.md."""
