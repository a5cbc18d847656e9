# Empty dependencies file for izhinet_core.
# This may be replaced when dependencies are built.
