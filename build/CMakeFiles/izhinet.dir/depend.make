# Empty dependencies file for izhinet.
# This may be replaced when dependencies are built.
