"""Placeholder: filled in by its issue."""

from flask import Blueprint

bp = Blueprint("events", __name__)
