"""One extension per feature; setup_hook loads every public module here, no registration needed."""
