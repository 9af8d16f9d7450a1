"""Which tenant a request works in, and which tenants' rows it may see.

A principal's `tenants` is None (every tenant: administrators, installations without any
tenant, `--insecure-no-auth`) or the set of tenants it belongs to. The shared tenant (no
tenant, NULL in the database) is everyone's: a process deployed there can be started from
any tenant, as Camunda's shared definitions are.

Two decisions, kept here so every route makes them the same way:

- `work_tenant`: the tenant a deploy or a start happens in. Named in the request, it must
  be one of the caller's (else 403 TENANT_DENIED, whether it exists or not, so a refusal
  tells nothing about other tenants); not named, it is the caller's only tenant if it has
  exactly one, else the shared tenant.
- `filter_tenant`: a `?tenant=` filter on a list, checked the same way; not named, no filter
  beyond what the caller may see.

Rows of another tenant are never refused with 403: a read or an action on one answers 404
as if it did not exist (`legato.store.tenants.may_see`), so ids of other tenants' work
cannot be probed.
"""

from __future__ import annotations

from legato.access.principal import Principal
from legato.errors import TenantDenied
from legato.model.elements import BusinessRuleTask, CallActivity
from legato.model.process import ProcessDefinition
from legato.store.tenants import Visible, tenant_id


def visible(principal: Principal) -> Visible:
    """The tenants whose rows the principal sees (None: all); the shared tenant's always."""
    return principal.tenants


def filter_tenant(principal: Principal, requested: str | None) -> str | None:
    """A `?tenant=` filter, checked: a tenant the caller lacks is refused, not answered empty."""
    if requested is None:
        return None
    found = tenant_id(requested)
    assert found is not None
    if principal.tenants is not None and found not in principal.tenants:
        raise TenantDenied(found, who=principal.name)
    return found


def work_tenant(principal: Principal, requested: str | None) -> str | None:
    """The tenant a deploy or start works in (None: the shared tenant)."""
    if requested is not None:
        return filter_tenant(principal, requested)
    if principal.tenants is not None and len(principal.tenants) == 1:
        return next(iter(principal.tenants))
    return None


def fixed_tenants(definition: ProcessDefinition) -> dict[str, str]:
    """The tenants a model names for its call activities and business rule tasks, by element."""
    return {
        element.id: element.tenant
        for element in definition.elements.values()
        if isinstance(element, CallActivity | BusinessRuleTask) and element.tenant is not None
    }


def check_fixed_tenants(principal: Principal, definition: ProcessDefinition) -> tuple[str, ...]:
    """Refuse a model that calls into a tenant its deployer does not belong to; the tenants it names.

    A fixed tenant (Camunda's `calledElementTenantId`, `decisionRefTenantId`) runs another
    tenant's process or decision with this model's data, and its child instance belongs to
    that tenant: only someone who may work there may deploy such a call (403 TENANT_DENIED,
    naming the element, whether the tenant exists or not).
    """
    for element, tenant in sorted(fixed_tenants(definition).items()):
        if principal.tenants is not None and tenant not in principal.tenants:
            raise TenantDenied(tenant, who=principal.name, element=element)
    return tuple(sorted(set(fixed_tenants(definition).values())))


def sender(principal: Principal, requested: str | None) -> tuple[Visible, str | None]:
    """Where a message, signal or condition from this caller may go, and the tenant of what
    it starts: named, that tenant (and the shared one); else every tenant the caller sees.
    A shared process it starts runs in the tenant worked in (`work_tenant`)."""
    origin = work_tenant(principal, requested)
    within = principal.tenants if requested is None else frozenset({origin}) if origin else frozenset()
    return within, origin


__all__ = ["check_fixed_tenants", "filter_tenant", "fixed_tenants", "sender", "visible", "work_tenant"]
