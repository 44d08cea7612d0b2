"""One extension per feature; every public module here is loaded by setup_hook, no registration needed."""
