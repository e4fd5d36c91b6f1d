"""Where the pure engine meets I/O: the venue and store ports, and the run loop itself."""
