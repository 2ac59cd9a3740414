"""Spend: prices and estimates, reservations and budgets (the books in Redis), the
engine's shared rate limit, and what each call used.

May import: the top of jobs only.
"""
