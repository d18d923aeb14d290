"""The libvirt/QEMU hypervisor driver (``[compute_agent] driver = "libvirt"``)."""
