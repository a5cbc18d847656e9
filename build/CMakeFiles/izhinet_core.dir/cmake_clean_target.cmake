file(REMOVE_RECURSE
  "libizhinet_core.a"
)
