"""The web layer: blueprints, forms, request guards, error pages, template helpers, static
files. Views parse the request, call one domain function and render or redirect.

May import everything in planner. Nothing outside ``planner.web`` (and the app factory) imports it.
"""
