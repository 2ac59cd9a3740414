"""What every request passes through: who is asking (the owner), the checked JSON body,
the per-address rate limits, and the security headers on every response.

May import: jobs (its top and any package but the work), and web's own context and
error_handlers.
"""
