"""Placeholder: filled in by its issue."""

from flask import Blueprint

bp = Blueprint("groups", __name__)
