"""Placeholder: filled in by its issue."""

from flask import Blueprint

bp = Blueprint("account", __name__)
