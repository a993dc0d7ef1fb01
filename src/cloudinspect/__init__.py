"""cloudinspect."""
