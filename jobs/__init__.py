"""The work and the domain code shared by the web app and the worker (never imports Flask)."""
