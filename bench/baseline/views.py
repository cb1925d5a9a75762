"""The one view of the baseline: the floor cost of a write through Django + gunicorn + PostgreSQL."""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Counter, Event


@csrf_exempt
@require_POST
def write(request: HttpRequest) -> HttpResponse:
    """Body {"counter": id, "amount": int}: lock that counter row, add the amount, insert one event row."""
    try:
        payload = json.loads(request.body)
        counter_id, amount = int(payload["counter"]), int(payload["amount"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad body"}, status=400)
    with transaction.atomic(durable=True):
        counter = Counter.objects.select_for_update().filter(pk=counter_id).first()
        if counter is None:
            return JsonResponse({"error": "no such counter"}, status=404)
        Counter.objects.filter(pk=counter.pk).update(value=F("value") + amount)
        event = Event.objects.create(counter=counter, amount=amount, created_at=timezone.now())
    return JsonResponse({"event": event.pk, "value": counter.value + amount}, status=201)
