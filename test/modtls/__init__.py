"""Test framework of the mod_tls pytest suite (see test/README.md)."""
