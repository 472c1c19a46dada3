"""cmi5 and xAPI (TinCan) launch in the player: launch.py makes the launch links, http.py serves them."""
