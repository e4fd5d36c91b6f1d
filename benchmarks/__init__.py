"""Speed figures of issues #2 and #11, printed beside their targets (``make bench``)."""
