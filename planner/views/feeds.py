"""Placeholder: filled in by its issue."""

from flask import Blueprint

bp = Blueprint("feeds", __name__)
