"""Placeholder: filled in by its issue."""

from flask import Blueprint

bp = Blueprint("routines", __name__)
