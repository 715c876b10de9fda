"""Flow files: the YAML format, its loader and validator, and the compiled form the engine runs."""
