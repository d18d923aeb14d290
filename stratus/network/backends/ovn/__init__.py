"""The OVN back end: writes the OVN Northbound DB through ovsdbapp, as Neutron's ML2/OVN driver does."""
