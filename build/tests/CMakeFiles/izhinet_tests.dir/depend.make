# Empty dependencies file for izhinet_tests.
# This may be replaced when dependencies are built.
