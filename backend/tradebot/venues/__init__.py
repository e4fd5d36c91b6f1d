"""Where orders go: the simulated matching engine (paper, replay, the exchange simulator) and
live exchanges through ccxt. Only this package imports ccxt."""
