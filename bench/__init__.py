"""The benchmark harness (``make bench``) and the reference views it measures against."""
