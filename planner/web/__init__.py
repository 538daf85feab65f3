"""The web layer: blueprints, forms, request guards, error pages, security headers
(``headers``), the one check for redirect targets (``redirects``), template helpers, static
files. Views parse the request, call one domain function and render or redirect.

May import everything in planner. Nothing outside ``planner.web`` (and the app factory) imports it.
"""
