"""Compute service: the Nova v2.1 API, scheduler with placement-style accounting, host agents."""
