"""Who is asking and what they may do: authentication, permissions, tenants, masking.

This layer sits between the runtime and the API (DESIGN.md): it makes pure decisions over
store data ("may this principal cancel instances of order_to_cash?"), and the API enforces
them. It never serves a request itself.
"""

from legato.access.principal import ANONYMOUS_DEV, Principal

__all__ = ["ANONYMOUS_DEV", "Principal"]
