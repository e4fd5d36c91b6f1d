"""The operators' own server: the fleet's kill switch and its status dashboard."""
