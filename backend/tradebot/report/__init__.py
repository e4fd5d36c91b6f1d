"""What users read: the terminal summary, the self-contained HTML report and the fills CSV."""
