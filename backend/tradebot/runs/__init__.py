"""Bot runs and what they leave behind: orders, fills, inventory snapshots and guard state."""
