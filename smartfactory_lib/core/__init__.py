"""The core: the reading schema, configuration and AWS clients."""
