"""Plans, entitlements and Stripe: the only package that imports ``stripe``."""
