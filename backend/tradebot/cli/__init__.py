"""The ``tradebot`` command line: thin handlers over services; heavy imports stay inside them."""
