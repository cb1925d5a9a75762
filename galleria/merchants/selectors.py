from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import Merchant, Store


def merchant_list(
    *, mall_group_id: int | None, query: str = "", category: str = "", mall_id: int | None = None, status: str = ""
) -> QuerySet[Merchant]:
    qs = Merchant.objects.select_related("mall").annotate(store_count=Count("stores")).order_by("mall_id", "name")
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    if query:
        q = query.strip()[:50]
        qs = qs.filter(Q(name__icontains=q) | Q(contract_no__icontains=q) | Q(stores__unit_no__icontains=q)).distinct()
    if category:
        qs = qs.filter(category=category)
    if mall_id:
        qs = qs.filter(mall_id=mall_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def merchant_get(*, mall_group_id: int | None, merchant_id: int) -> Merchant:
    qs = Merchant.objects.select_related("mall")
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    return qs.get(pk=merchant_id)


def store_list(*, merchant_id: int) -> QuerySet[Store]:
    return Store.objects.filter(merchant_id=merchant_id).order_by("floor", "unit_no")
