"""The compute agent: one per host, drives the hypervisor and reports to the conductor over the bus."""
