"""Placeholder: filled in by its issue."""

from flask import Blueprint

bp = Blueprint("home", __name__)
