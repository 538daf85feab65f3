"""Calendar feeds: which routines a feed holds, the RFC 5545 writer, VTIMEZONEs, the byte
cache and the secret feed tokens.

May import: scheduling, joining (attendance summaries), plugins, models, db. Never ``planner.web``.
"""
