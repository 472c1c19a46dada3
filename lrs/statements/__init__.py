"""Statements: validation, the forms the LRS stores and returns, and the terms queries match on."""
