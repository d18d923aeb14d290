"""CirrOS-like test guest image built from Debian packages (`stratus image build-testvm`)."""
