"""What Lambda's execution environments and EC2's instances share:

    linux.py         mount, umount, unshare, setns, pivot_root, prctl through libc
    cgroups.py       v1/v2 detection, one sandbox's cgroup(s), sweeping a dead engine's
    capabilities.py  capabilities by name; dropping them from the bounding set
    seccomp.py       filters (libseccomp) and the supervisor's side of user notifications
    netns.py         sockets created inside a network namespace
"""
