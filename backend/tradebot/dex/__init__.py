"""DEX sell check: can a token bought on a Uniswap-V2-style router be sold back, at what tax?

``check.check_sell`` simulates the buy and the sell in one ``eth_call`` with state overrides
(``simulator``), ``assessment`` turns what happened into a verdict, taxes and flags, and
``guard`` is what a DEX venue must pass before it buys a token. Nothing here signs or sends a
transaction: there is no key to sign with.
"""
