"""Device tokens on the web: an officer (or the SP office) ends a lost phone's access."""
