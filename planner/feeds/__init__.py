"""Calendar feeds: which routines a feed holds, the RFC 5545 writer, VTIMEZONEs, the byte
cache and the secret feed tokens.

May import: joining (attendance summaries), groups, accounts, plugins, scheduling and the
shared base. Never ``planner.web`` or ``routines`` (its independent sibling).
"""
