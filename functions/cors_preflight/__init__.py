"""Marks this folder as a package of the jwt-scoped distribution (see pyproject.toml), so its
handler ships as package data. Lambda never imports it, and the archive leaves it out."""
