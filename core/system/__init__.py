"""Facts about this computer that need neither torch nor Qt: its GPUs, the Qt platform libraries,
free disk space and write access.

Only the standard library is used here, and modules import each other relatively, so that the
installers can load this folder with any Python before Sfumato (or torch) is installed.
"""
