"""The privacy center under /center: the person's own pages (home and settings, withdrawal,
cookie settings, policy changes, requests), sharing :mod:`.common`."""
