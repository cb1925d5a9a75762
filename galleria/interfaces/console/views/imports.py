"""Imports in the console: the list, upload, column mapping with a preview, the dry-run report (counts, rows by
outcome, paginated), the real run with a progress bar (htmx polling) and the result file.

Permission members.import (group admin, platform admin). Jobs of another mall group are 404s.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.services import audit_record
from galleria.core.errors import ApplicationError
from galleria.imports import conf, rules
from galleria.imports import services as import_services
from galleria.imports.exceptions import MappingInvalidError
from galleria.imports.models import ImportJob, ImportRow, ImportStatus, Outcome, Phase
from galleria.interfaces.common import actor_for, scope_of, spreadsheet_cell

from ..helpers import console_view, is_htmx, page_of
from ..import_forms import MappingForm, RowFilterForm, UploadForm
from ..loyalty import group_context

STATUS_TONES = {
    "uploaded": "",
    "checking": "badge-warn",
    "checked": "badge-primary",
    "queued": "badge-warn",
    "running": "badge-warn",
    "done": "badge-ok",
    "failed": "badge-danger",
}
OUTCOME_TONES = {
    "created": "badge-ok",
    "updated": "badge-primary",
    "unchanged": "",
    "duplicate": "badge-warn",
    "error": "badge-danger",
}
ACTIVE = (ImportStatus.CHECKING, ImportStatus.QUEUED, ImportStatus.RUNNING)


def _job_or_404(request: HttpRequest, job_id: int) -> ImportJob:
    scope = scope_of(request)
    qs = ImportJob.objects.select_related("default_mall").filter(pk=job_id)
    if scope.mall_group_id is not None:
        qs = qs.filter(mall_group_id=scope.mall_group_id)
    job = qs.first()
    if job is None:
        raise Http404("import")
    return job


def _note_text(code: str) -> str:
    if code == "blank_rows":
        return _("Reading stopped after many consecutive blank rows; rows further down were not read.")
    if code == "max_rows":
        return _("The file has more rows than allowed; split it.")
    return code


@console_view(perms.MEMBERS_IMPORT)
def imports(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    qs = ImportJob.objects.filter(mall_group_id=g.id).order_by("-pk")
    page_obj, query_string = page_of(request, qs)
    rows = [{"job": job, "tone": STATUS_TONES.get(job.status, "")} for job in page_obj]
    context = {"nav": "imports", "g": g, "page_obj": page_obj, "query_string": query_string, "rows": rows}
    return render(request, "console/imports/list.html", context)


@console_view(perms.MEMBERS_IMPORT)
def import_new(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if request.method == "POST" and length.isdigit() and int(length) > conf.max_bytes() + 64 * 1024:
        # refused from the declared length, before the body is read
        refused = _("The file is larger than %(mb)s MB; split it into smaller files.") % {
            "mb": conf.max_bytes() // (1024 * 1024)
        }
        context = {"nav": "imports", "g": g, "form": UploadForm(group_id=g.id), "refused": refused}
        return render(request, "console/imports/new.html", context, status=413)
    form = UploadForm(request.POST or None, request.FILES or None, group_id=g.id)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_services.import_upload(
                mall_group_id=g.id,
                kind=form.cleaned_data["kind"],
                filename=upload.name or "",
                stream=upload.chunks(),
                size=upload.size,
                actor=actor_for(request),
                source=form.cleaned_data["source"],
                default_mall_id=int(form.cleaned_data["mall"]) if form.cleaned_data.get("mall") else None,
            )
        except ApplicationError as exc:
            form.add_error("file", str(exc.message))
        else:
            return redirect("console:import_mapping", job.pk)
    status = 400 if form.is_bound else 200
    return render(request, "console/imports/new.html", {"nav": "imports", "g": g, "form": form}, status=status)


@console_view(perms.MEMBERS_IMPORT)
def import_mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    g = group_context(request, group_id=job.mall_group_id)
    editable = job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKED)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST":
        if not editable:
            messages.error(request, _("This import has started; its mapping can no longer change."))
            return redirect("console:import", job.pk)
        if form.is_valid():
            try:
                import_services.import_set_mapping(
                    job_id=job.pk, mall_group_id=job.mall_group_id, mapping=form.mapping(), actor=actor_for(request)
                )
                import_services.import_dry_run_request(
                    job_id=job.pk, mall_group_id=job.mall_group_id, actor=actor_for(request)
                )
            except MappingInvalidError:
                form.add_error(None, _("Map the phone column (and, for past sales, merchant, date and amount)."))
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            else:
                return redirect("console:import", job.pk)
    fields = list(form)
    context = {
        "nav": "imports",
        "g": g,
        "job": job,
        "form": form,
        "fields": fields,
        "editable": editable,
        "headers": job.headers,
        "sample": job.sample,
        "tone": STATUS_TONES.get(job.status, ""),
    }
    return render(
        request, "console/imports/mapping.html", context, status=400 if form.is_bound and form.errors else 200
    )


def _counts(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"outcome": value, "label": label, "n": int(counts.get(value, 0)), "tone": OUTCOME_TONES[value]}
        for value, label in Outcome.choices
    ]


def _phase(job: ImportJob) -> str:
    return (
        Phase.REAL
        if job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.DONE, ImportStatus.FAILED)
        else Phase.DRY
    )


@console_view(perms.MEMBERS_IMPORT)
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """The dry-run report or the run's progress and result; while work is under way htmx polls the status card."""
    job = _job_or_404(request, job_id)
    g = group_context(request, group_id=job.mall_group_id)
    phase = request.GET.get("phase") if request.GET.get("phase") in Phase.values else _phase(job)
    real = phase == Phase.REAL
    done_rows = job.rows_done if real else sum(int(v) for v in job.dry_counts.values())
    total = job.rows_total
    percent = 100 if job.status == ImportStatus.DONE else (min(100, done_rows * 100 // total) if total else 0)
    has_file = job.file_deleted_at is None
    context: dict[str, Any] = {
        "nav": "imports",
        "g": g,
        "job": job,
        "tone": STATUS_TONES.get(job.status, ""),
        "active": job.status in ACTIVE,
        "real": real,
        "phase": phase,
        "counts": _counts(job.counts if real else job.dry_counts),
        "done_rows": done_rows,
        "percent": percent,
        "notes": [_note_text(n) for n in job.notes],
        "can_start": job.status == ImportStatus.CHECKED and has_file,
        "can_restart_dry": job.status == ImportStatus.CHECKING and not request.GET.get("poll") and has_file,
        "can_resume": has_file
        and (
            job.status in (ImportStatus.FAILED,) or (job.status == ImportStatus.RUNNING and not request.GET.get("poll"))
        ),
        "has_file": has_file,
    }
    if is_htmx(request) and request.GET.get("poll"):
        response = render(request, "console/imports/_status.html", context)
        if job.status not in ACTIVE:
            response["HX-Refresh"] = "true"  # finished: reload once for the full report
        return response
    filter_form = RowFilterForm(request.GET or None)
    qs = ImportRow.objects.filter(job=job, phase=phase).select_related("member").order_by("line")
    if filter_form.is_valid() and filter_form.cleaned_data.get("outcome"):
        qs = qs.filter(outcome=filter_form.cleaned_data["outcome"])
    page_obj, query_string = page_of(request, qs, per_page=50)
    context.update(
        {
            "filter_form": filter_form,
            "page_obj": page_obj,
            "query_string": query_string,
            "rows": [_row(r) for r in page_obj],
        }
    )
    if is_htmx(request):
        return render(request, "console/imports/_rows.html", context)
    return render(request, "console/imports/detail.html", context)


def _row(row: ImportRow) -> dict[str, Any]:
    reason = rules.outcome_text(row.code) if row.code else ""
    if row.other_line:
        reason = f"{reason} " + _("(row %(line)s)") % {"line": row.other_line}
    return {
        "row": row,
        "tone": OUTCOME_TONES.get(row.outcome, ""),
        "reason": reason.strip(),
        "field": str(rules.FIELD_LABELS.get(row.field, row.field)) if row.field else "",
    }


@require_POST
@console_view(perms.MEMBERS_IMPORT)
def import_start(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    try:
        import_services.import_start(job_id=job.pk, mall_group_id=job.mall_group_id, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    return redirect("console:import", job.pk)


@console_view(perms.MEMBERS_IMPORT)
def import_result(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    """Every row's outcome as CSV (UTF-8 with BOM so Excel reads Chinese; formula-safe cells)."""
    job = _job_or_404(request, job_id)
    phase = request.GET.get("phase") if request.GET.get("phase") in Phase.values else _phase(job)
    audit_record(
        actor=actor_for(request),
        action="import.download",
        target_type="importjob",
        target_id=job.pk,
        target_label=job.original_name,
        mall_group_id=job.mall_group_id,
        changes={"phase": [None, phase]},
    )
    labels = dict(Outcome.choices)

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        yield writer.writerow(
            [_("Line in the file"), _("Outcome"), _("Reason"), _("Column"), _("Row"), _("Member card"), _("Member id")]
        )
        rows = ImportRow.objects.filter(job=job, phase=phase).select_related("member").order_by("line")
        for r in rows.iterator(chunk_size=2000):
            info = _row(r)
            yield writer.writerow(
                [
                    r.line,
                    str(labels.get(r.outcome, r.outcome)),
                    spreadsheet_cell(info["reason"]),
                    spreadsheet_cell(info["field"]),
                    spreadsheet_cell(r.label),
                    spreadsheet_cell(r.member.card_no if r.member else ""),
                    r.member_id or "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-{phase}.csv"'
    return response


@require_POST
@console_view(perms.MEMBERS_IMPORT)
def import_dry_run(request: HttpRequest, job_id: int) -> HttpResponse:
    """Restart a dry run that stopped moving (its worker died): the newer request supersedes any dry run of this
    import still going. (The first dry run is requested by saving the mapping.)"""
    job = _job_or_404(request, job_id)
    if job.status != ImportStatus.CHECKING:
        messages.error(request, _("Only a dry run in progress can be restarted."))
        return redirect("console:import", job.pk)
    try:
        import_services.import_dry_run_request(job_id=job.pk, mall_group_id=job.mall_group_id, actor=actor_for(request))
    except MappingInvalidError:
        messages.error(request, _("Map the phone column (and, for past sales, merchant, date and amount)."))
        return redirect("console:import_mapping", job.pk)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    return redirect("console:import", job.pk)
